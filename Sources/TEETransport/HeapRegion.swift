import TEECore

/// Shared memory for the in-process (embedded) transport: ordinary memory, each access atomic
/// under a lock so that a reader's copy is never torn by a concurrent writer.
public final class HeapRegion: SharedByteBuffer {
    private let storage: Locked<[UInt8]>
    public let count: Int

    public init(count: Int) {
        self.count = count
        storage = Locked([UInt8](repeating: 0, count: count))
    }

    public init(bytes: [UInt8]) {
        count = bytes.count
        storage = Locked(bytes)
    }

    public func copyBytes(offset: Int, count: Int) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        return storage.withLock { Array($0[offset..<(offset + count)]) }
    }

    public func copyBytes(offset: Int, count: Int, into destination: inout [UInt8], at destinationOffset: Int) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        storage.withLock { destination.replaceSubrange(destinationOffset..<(destinationOffset + count), with: $0[offset..<(offset + count)]) }
    }

    public func copyBytes(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        storage.withLock { bytes in bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + offset, byteCount: count) } }
    }

    public func atomicWrappingAdd(offset: Int, _ delta: UInt32) -> UInt32? {
        precondition(offset >= 0 && offset <= count - 4, "shared-memory atomic out of range")
        guard offset % 4 == 0 else { return nil }
        return storage.withLock { wrappingAddLittleEndian(&$0, at: offset, delta) }
    }

    public func store(_ bytes: [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset <= count - bytes.count, "shared-memory write out of range")
        storage.withLock { $0.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
    }
}
