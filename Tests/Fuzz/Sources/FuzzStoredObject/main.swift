import FuzzHarnesses

/// Trusted storage's object records (`StoredObject.decode`), see `FuzzHarnesses.storedObject`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStoredObject(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.storedObject(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
