/// The system pseudo-TA every rproc-tee secure world has: OP-TEE's (libutee's `pta_system.h`,
/// same UUID and command IDs), the services a TA opens it for with `TEE.openSession`.
public enum SystemPTAInterface {
    public static let uuid: TEEUUID = "3a2f8978-5dc0-11e8-9c2d-fa7ae01bbebc"

    public enum Command: UInt32, Sendable {
        /// [in] memref: bytes to mix into the secure world's random generator.
        case addRNGEntropy = 0
        /// [in] memref extra data (≤ 1024 bytes, may be NULL), [out] memref: a key of 16…32
        /// bytes bound to this installation and the calling TA, written only into the TA's own
        /// memory (SECURITY for memory shared with the normal world).
        case deriveTAUniqueKey = 1
        /// OP-TEE's PTA_SYSTEM_SUPP_PLUGIN_INVOKE: [in] memref the plugin's UUID (16 octets, RFC 4122
        /// order; OP-TEE's libutee passes its TEE_UUID struct),
        /// [in] value a command, b sub-command, [inout] memref data for the plugin (NULL only
        /// with size 0, at most `maxPluginData` bytes), [out] value a: the length the plugin
        /// reported. What `TEE.invokeSupplicantPlugin` sends.
        case supplicantPluginInvoke = 13
    }

    /// The most a TA may pass to a supplicant plugin in one call.
    public static let maxPluginData = 1 << 20

    /// OP-TEE's TA_DERIVED_KEY_MIN_SIZE…MAX_SIZE and TA_DERIVED_EXTRA_DATA_MAX_SIZE.
    public static let derivedKeySizes = 16...32
    public static let maxExtraData = 1024
}
