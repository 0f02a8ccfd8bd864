import OPTEETestTAInterface
import OPTEETestTAs
import TEEInternalAPI

/// The crypt TA's packed attribute lists (populate, generate, derive, the asymmetric commands),
/// as the TA decodes them (attacker: the normal-world client, xtest or anyone, writes every
/// byte). A list that decodes must decode the same after re-packing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCryptAttributes(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let attributes = try? CryptTAImplementation.unpackAttributes(bytes) else { return 0 }
    let repacked = CryptTA.packAttributes(attributes.map { ($0.id, $0.value, $0.buffer) })
    precondition((try? CryptTAImplementation.unpackAttributes(repacked)) == attributes, "pack/unpack is not the identity")
    return 0
}
