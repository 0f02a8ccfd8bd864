import FuzzHarnesses

/// Trusted storage's object files (format v4), see `FuzzHarnesses.storageObject`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStorageObject(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.storageObject(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
