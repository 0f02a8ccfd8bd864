import FuzzHarnesses

/// One client connection's control messages, region descriptors and frames through the
/// daemon's connection handler (the record format is in FuzzHarnesses.daemonConnection).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDaemon(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.daemonConnection(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
