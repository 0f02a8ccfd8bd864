import FuzzHarnesses

/// Every input is re-signed with the harness key before the strict verifier sees it, so
/// mutations of the signed header and TLVs reach the checks behind the signature (FuzzContainer's
/// mutants mostly stop at a failed signature) and the success path.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResigned(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.resigned(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
