import FuzzHarnesses

/// GP arithmetic (`BigInteger`, what the crypt TA's `TEE_BigInt` commands compute with) on
/// octet strings and operations the input chooses; each result checked against its defining
/// identity (`FuzzHarnesses.arithmetic`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArithmetic(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.arithmetic(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
