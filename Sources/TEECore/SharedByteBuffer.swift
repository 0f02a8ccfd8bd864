/// Bytes shared between the normal world and the secure world (or between two TAs): what a
/// memory reference points into. Either side may change them at any moment, so a reader takes a
/// copy and validates the copy; nothing keeps a view into the shared bytes.
public protocol SharedByteBuffer: AnyObject, Sendable {
    var count: Int { get }
    /// A copy of `count` bytes at `offset`. The caller has checked the range.
    func copyBytes(offset: Int, count: Int) -> [UInt8]
    /// Stores `bytes` at `offset`. The caller has checked the range.
    func store(_ bytes: [UInt8], at offset: Int)
    /// Copies `count` bytes at `offset` straight into `destination` at `destinationOffset`
    /// (one copy, for bulk data). The caller has checked both ranges.
    func copyBytes(offset: Int, count: Int, into destination: inout [UInt8], at destinationOffset: Int)
    /// Copies `count` bytes at `offset` straight into raw memory the caller owns (one copy:
    /// the firmware loader's path into coprocessor memory). The caller has checked the range
    /// and that `destination` holds `count` bytes.
    func copyBytes(offset: Int, count: Int, to destination: UnsafeMutableRawPointer)
    /// Lends `count` bytes at `offset` to `body` in place where the memory is a mapping (no
    /// copy), else a copy of them. The other side can write them while `body` runs. The caller
    /// has checked the range.
    func withBytes<R>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TEEResult) -> R) throws(TEEResult) -> R
    /// Adds `delta` (wrapping) to the little-endian u32 at `offset` as one atomic step against
    /// every other side that does the same — in other processes too, where the memory is a
    /// mapping — and returns the new value; nil if the word is not 4-byte aligned in the memory
    /// (a client's partial reference may start anywhere). The caller has checked the range.
    func atomicWrappingAdd(offset: Int, _ delta: UInt32) -> UInt32?
}

/// The read-add-store of `atomicWrappingAdd` for memory kept in an array behind a lock (the
/// caller holds it): the little-endian u32 at `offset` plus `delta`, stored back and returned.
public func wrappingAddLittleEndian(_ bytes: inout [UInt8], at offset: Int, _ delta: UInt32) -> UInt32 {
    var v = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    v &+= delta
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    return v
}

extension SharedByteBuffer {
    public func copyBytes(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        let bytes = copyBytes(offset: offset, count: count)
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: count) }
    }

    public func copyBytes(offset: Int, count: Int, into destination: inout [UInt8], at destinationOffset: Int) {
        destination.replaceSubrange(destinationOffset..<(destinationOffset + count), with: copyBytes(offset: offset, count: count))
    }

    /// A copy, for memory that is not a mapping (the embedded transport's locked arrays).
    public func withBytes<R>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TEEResult) -> R) throws(TEEResult) -> R {
        let bytes = copyBytes(offset: offset, count: count)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(TEEResult) -> R in try body(raw) } }
        return try result.get()
    }
}
