import TEETransport

/// `TEEC_MEM_INPUT` / `TEEC_MEM_OUTPUT`.
public struct SharedMemoryFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let input = SharedMemoryFlags(rawValue: 0x1)
    public static let output = SharedMemoryFlags(rawValue: 0x2)
}

/// Memory shared with the secure world (`TEEC_SharedMemory`): referenced by whole or partial
/// memory references without copying. Swift arrays cannot be shared by reference, so
/// registering bytes copies them into a shared region once; read results back with `bytes`.
public final class SharedMemory: @unchecked Sendable {
    // @unchecked: `released` is guarded by `state`.
    public let size: Int
    public let flags: SharedMemoryFlags
    let id: UInt32
    let region: any SharedByteBuffer
    weak var context: TEEContext?
    private let state = Locked(false)

    init(id: UInt32, region: any SharedByteBuffer, size: Int, flags: SharedMemoryFlags, context: TEEContext) {
        self.id = id
        self.region = region
        self.size = size
        self.flags = flags
        self.context = context
    }

    var isReleased: Bool { state.withLock { $0 } }
    func markReleased() -> Bool { state.withLock { was in defer { was = true }; return !was } }

    /// Where the memory is mapped in this process when it is a daemon region (a memfd both
    /// sides map); nil for the embedded transport's heap regions.
    public var mappedAddress: UnsafeMutableRawPointer? { (region as? MappedRegion)?.baseAddress }

    /// `TEEC_ReleaseSharedMemory` through the context that made it (harmless twice).
    public func release() { context?.releaseSharedMemory(self) }

    /// A copy of the current contents.
    public var bytes: [UInt8] { region.copyBytes(offset: 0, count: size) }

    public func read(offset: Int, count: Int) throws(TEEClientError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size - count else { throw TEEClientError(.badParameters, origin: .api) }
        return region.copyBytes(offset: offset, count: count)
    }

    public func write(_ bytes: [UInt8], at offset: Int = 0) throws(TEEClientError) {
        guard offset >= 0, offset <= size - bytes.count else { throw TEEClientError(.badParameters, origin: .api) }
        region.store(bytes, at: offset)
    }
}
