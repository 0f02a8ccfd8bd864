import SecureWorld

/// A TA's trusted-storage directory (format v3): the decoder must turn any bytes into a directory
/// or CORRUPT_OBJECT, never trap; what it accepts is canonical (re-encoded, the same bytes: ids
/// sorted and unique, nothing after the last entry).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStorageDirectory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let directory = try? StorageDirectory.decode(bytes) {
        precondition(directory.encoded() == bytes, "a directory that does not re-encode to its bytes")
        precondition(directory.entries.values.allSatisfy { $0.version <= directory.generation && $0.tag.count == StorageDirectory.tagLength })
    }
    return 0
}
