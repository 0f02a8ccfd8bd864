import SecureWorld

/// A TA's trusted-storage directory (format v4, and v3 as it reads it): the decoder must turn any
/// bytes into a directory or CORRUPT_OBJECT, never trap; what it accepts is canonical (a v4
/// record re-encodes to the same bytes: ids sorted and unique, nothing after the last entry; a
/// v3 one decodes again from its v4 encoding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStorageDirectory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let directory = try? StorageDirectory.decode(bytes) {
        if bytes.starts(with: Array("RPD3".utf8)) {
            precondition((try? StorageDirectory.decode(directory.encoded())) == directory, "a v3 directory that does not survive its v4 encoding")
        } else {
            precondition(directory.encoded() == bytes, "a directory that does not re-encode to its bytes")
        }
        precondition(directory.entries.values.allSatisfy { $0.slot <= 2 })
        precondition(directory.entries.values.allSatisfy { $0.version <= directory.generation && $0.tag.count == StorageDirectory.tagLength })
    }
    return 0
}
