import TEEInternalAPI

/// The originals call other TAs with TEE_OpenTASession / TEE_InvokeTACommand and return the
/// result code they get: the same here, the code without its origin.
extension TEE {
    /// A session to `uuid`, opened without parameters.
    func session(to uuid: TEEUUID) throws(TEEResult) -> TASession {
        var none = Parameters(types: ParamTypes(), params: [.none, .none, .none, .none])
        do { return try openSession(uuid, &none) } catch { throw error.result }
    }
}

extension TASession {
    /// `invoke`, its refusal as the result code alone.
    func call(_ command: UInt32, _ params: inout Parameters, timeout: UInt32 = TEE.timeoutInfinite) throws(TEEResult) {
        do { try invoke(command, &params, timeout: timeout) } catch { throw error.result }
    }
}
