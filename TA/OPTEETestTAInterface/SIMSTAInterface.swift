import TEECore

/// optee_test's single-instance multi-session test TA (`ta/sims`), its keep-alive twin
/// (`ta/sims_keepalive`) and its multi-instance single-session twin (`ta/miss`, the same code):
/// UUIDs and command IDs as xtest 1012, 1021 and 1040 use them.
public enum SIMSTA {
    public static let uuid: TEEUUID = "e6a33ed4-562b-463a-bb7e-ff5e15a493c8"
    public static let keepAliveUUID: TEEUUID = "a4c04d50-f180-11e8-8eb2-f2801f1b9fd1"
    public static let multiInstanceUUID: TEEUUID = "528938ce-fc59-11e8-8eb2-f2801f1b9fd1"

    public enum Command: UInt32, Sendable {
        /// [in] value a = bucket (0-3); [out] memref: the bucket's bytes (OVERFLOW if larger).
        case read = 1
        /// [in] value a = bucket; [in] memref: bytes to keep in the instance.
        case write = 2
        /// [out] value a: how many sessions the instance had opened before this one.
        case getCounter = 3
        /// [in] memref: a TA's UUID (a C `TEE_UUID`, 16 bytes) — that TA is told to panic; NULL or
        /// empty: this TA panics.
        case panic = 4
        /// [in] memref: a TA's UUID (a C `TEE_UUID`): this session opens a session to it.
        case openTASession = 5
    }

    /// The instance's storage buckets.
    public static let buckets = 4
}
