import TEECore

/// The shared-memory regions one client connection has made known to the secure world, by id.
/// Id 0 is never used: on the wire it stands for a NULL memory reference.
public final class MemoryTable: Sendable {
    public struct Entry: Sendable {
        public let region: any SharedByteBuffer
        /// `TEEC_MEM_INPUT` (1) and/or `TEEC_MEM_OUTPUT` (2).
        public let flags: UInt32
    }

    private let entries = Locked<[UInt32: Entry]>([:])
    private let nextID = Locked<UInt32>(1)

    public init() {}

    /// Adds a region under a fresh id.
    public func add(_ region: any SharedByteBuffer, flags: UInt32) -> UInt32 {
        let id = nextID.withLock { id -> UInt32 in
            defer { id = id == .max ? 1 : id + 1 }
            return id
        }
        entries.withLock { $0[id] = Entry(region: region, flags: flags) }
        return id
    }

    public func lookup(_ id: UInt32) -> Entry? { entries.withLock { $0[id] } }

    @discardableResult
    public func remove(_ id: UInt32) -> Entry? { entries.withLock { $0.removeValue(forKey: id) } }

    public var count: Int { entries.withLock { $0.count } }
}
