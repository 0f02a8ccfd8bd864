/// Bytes shared between the normal world and the secure world (or between two TAs): what a
/// memory reference points into. Either side may change them at any moment, so a reader takes a
/// copy and validates the copy; nothing keeps a view into the shared bytes.
public protocol SharedByteBuffer: AnyObject, Sendable {
    var count: Int { get }
    /// A copy of `count` bytes at `offset`. The caller has checked the range.
    func copyBytes(offset: Int, count: Int) -> [UInt8]
    /// Stores `bytes` at `offset`. The caller has checked the range.
    func store(_ bytes: [UInt8], at offset: Int)
}
