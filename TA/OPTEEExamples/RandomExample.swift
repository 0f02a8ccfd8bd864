import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `random` TA in Swift: GENERATE fills the output memref with random bytes
/// from the TEE's generator. A new instance per session (the original's TA_FLAGS are 0).
public final class RandomExample: TrustedApplication {
    public static let properties = TAProperties(uuid: RandomExampleTA.uuid, dataSize: 32 * 1024, stackSize: 2 * 1024,
                                                description: "random (optee_examples)")
    let tee: TEE

    public init(tee: TEE) throws(TEEResult) { self.tee = tee }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes())
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard RandomExampleTA.Command(rawValue: command) == .generate else { throw .badParameters }
        try params.require(ParamTypes(.memrefOutput))
        try params.withMemref(0) { (out) throws(TEEResult) in try out.write(tee.randomBytes(out.capacity)) }
    }
}
