/// A GlobalPlatform return code (`TEE_Result` / `TEEC_Result`).
///
/// The raw value is what crosses every boundary; named values cover every code GP and OP-TEE
/// define that rproc-tee uses. Any other value (a TA's own code) is kept unchanged, because GP
/// requires a TA's return value to reach the client as it was returned.
public struct TEEResult: RawRepresentable, Hashable, Sendable, Error {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let success = TEEResult(0x0000_0000)
    public static let generic = TEEResult(0xFFFF_0000)
    public static let accessDenied = TEEResult(0xFFFF_0001)
    public static let cancel = TEEResult(0xFFFF_0002)
    public static let accessConflict = TEEResult(0xFFFF_0003)
    public static let excessData = TEEResult(0xFFFF_0004)
    public static let badFormat = TEEResult(0xFFFF_0005)
    public static let badParameters = TEEResult(0xFFFF_0006)
    public static let badState = TEEResult(0xFFFF_0007)
    public static let itemNotFound = TEEResult(0xFFFF_0008)
    public static let notImplemented = TEEResult(0xFFFF_0009)
    public static let notSupported = TEEResult(0xFFFF_000A)
    public static let noData = TEEResult(0xFFFF_000B)
    public static let outOfMemory = TEEResult(0xFFFF_000C)
    public static let busy = TEEResult(0xFFFF_000D)
    public static let communication = TEEResult(0xFFFF_000E)
    public static let security = TEEResult(0xFFFF_000F)
    public static let shortBuffer = TEEResult(0xFFFF_0010)
    public static let externalCancel = TEEResult(0xFFFF_0011)
    public static let timeout = TEEResult(0xFFFF_3001)
    public static let overflow = TEEResult(0xFFFF_300F)
    /// GP's TEE_ERROR_TIME_NOT_SET: no TA persistent time was set.
    public static let timeNotSet = TEEResult(0xFFFF_5000)
    /// GP's TEE_ERROR_TIME_NEEDS_RESET: the TA persistent time may have been tampered with.
    public static let timeNeedsReset = TEEResult(0xFFFF_5001)
    public static let targetDead = TEEResult(0xFFFF_3024)
    public static let storageNoSpace = TEEResult(0xFFFF_3041)
    public static let macInvalid = TEEResult(0xFFFF_3071)
    public static let signatureInvalid = TEEResult(0xFFFF_3072)
    public static let corruptObject = TEEResult(0xF010_0001)
    public static let storageNotAvailable = TEEResult(0xF010_0003)

    /// Every named code with its GP name (without the `TEE_ERROR_` prefix).
    public static let allNamed: [(TEEResult, String)] = [
        (.success, "SUCCESS"), (.generic, "GENERIC"), (.accessDenied, "ACCESS_DENIED"),
        (.cancel, "CANCEL"), (.accessConflict, "ACCESS_CONFLICT"), (.excessData, "EXCESS_DATA"),
        (.badFormat, "BAD_FORMAT"), (.badParameters, "BAD_PARAMETERS"), (.badState, "BAD_STATE"),
        (.itemNotFound, "ITEM_NOT_FOUND"), (.notImplemented, "NOT_IMPLEMENTED"),
        (.notSupported, "NOT_SUPPORTED"), (.noData, "NO_DATA"), (.outOfMemory, "OUT_OF_MEMORY"),
        (.busy, "BUSY"), (.communication, "COMMUNICATION"), (.security, "SECURITY"),
        (.shortBuffer, "SHORT_BUFFER"), (.externalCancel, "EXTERNAL_CANCEL"), (.timeout, "TIMEOUT"),
        (.overflow, "OVERFLOW"), (.timeNotSet, "TIME_NOT_SET"), (.timeNeedsReset, "TIME_NEEDS_RESET"), (.targetDead, "TARGET_DEAD"), (.storageNoSpace, "STORAGE_NO_SPACE"),
        (.macInvalid, "MAC_INVALID"), (.signatureInvalid, "SIGNATURE_INVALID"),
        (.corruptObject, "CORRUPT_OBJECT"), (.storageNotAvailable, "STORAGE_NOT_AVAILABLE"),
    ]

    /// The GP name (`BAD_PARAMETERS`), or nil for a value GP does not name.
    public var name: String? {
        Self.allNamed.first { $0.0 == self }?.1
    }

    /// Looks a code up by its GP name, with or without the `TEE_ERROR_` / `TEEC_ERROR_` prefix.
    public init?(name: String) {
        var key = name.uppercased()
        for prefix in ["TEEC_ERROR_", "TEE_ERROR_", "TEEC_", "TEE_"] where key.hasPrefix(prefix) {
            key.removeFirst(prefix.count)
            break
        }
        guard let match = Self.allNamed.first(where: { $0.1 == key }) else { return nil }
        self = match.0
    }

    public var isSuccess: Bool { self == .success }
}

extension TEEResult: CustomStringConvertible {
    /// `0xFFFF0006 (BAD_PARAMETERS)`; an unnamed code prints as its hex value alone.
    public var description: String {
        let hex = hex8(rawValue)
        if let name { return "\(hex) (\(name))" }
        return hex
    }
}

/// `0x` and eight upper-case hex digits: GP codes are always shown at full width.
func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
