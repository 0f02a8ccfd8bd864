import FuzzHarnesses

/// Whole (re-signed) images through the remoteproc TA in the embedded world; the TA's promise
/// (refused: OFF, wiped, default firewall; accepted: memory equals the signed segments) is
/// checked after every input and a violation traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRemoteProcTA(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.remoteprocTA(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
