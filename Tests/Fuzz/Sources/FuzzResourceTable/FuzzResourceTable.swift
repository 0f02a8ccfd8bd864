import FirmwareImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResourceTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? ResourceTable(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
