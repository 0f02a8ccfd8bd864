import TEECore

/// optee_test's supplicant-plugin test TA (`ta/supp_plugin`) and the test plugin it calls
/// (`host/supp_plugin`, loaded by tee-supplicant): UUIDs and command IDs as xtest 1033 uses them.
public enum SupplicantPluginTA {
    public static let uuid: TEEUUID = "380231ac-fb99-47ad-a689-9e017eb6e78a"

    public enum Command: UInt32, Sendable {
        /// [inout] value a, b: the plugin's PASS_VALUES with [in] value a as the sub-command
        /// ('+' adds b to a, anything else subtracts); a comes back as the plugin left it.
        case passValues = 0
        /// [inout] memref: the plugin's WRITE_ARR (it stores the bytes' 8-bit sum in the first);
        /// [out] value a: that first byte.
        case writeArray = 1
        /// [out] memref: the plugin's GET_ARR ("Array from plugin" and its NUL); [out] value a:
        /// the length the plugin reported.
        case getArray = 2
        /// A call without a plugin UUID (BAD_PARAMETERS).
        case badUUID = 3
        /// A call with a length and no data (BAD_PARAMETERS).
        case badInputData = 4
        /// A call with data and no length (BAD_PARAMETERS).
        case badInputLength = 5
        /// A call to the nil UUID, which no plugin has (ITEM_NOT_FOUND from the supplicant).
        case unknownUUID = 6
    }

    /// The test plugin's UUID and commands (`test_supp_plugin.h`).
    public static let testPlugin: TEEUUID = "f07bfc66-958c-4a15-99c0-260e4e7375dd"
    public enum PluginCommand: UInt32, Sendable {
        case ping = 0, passValues = 1, writeArray = 2, getArray = 3
    }
}
