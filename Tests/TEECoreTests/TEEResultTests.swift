import Testing
@testable import TEECore

@Suite struct TEEResultTests {
    /// Every code of shared/spec/gp-api.md, with its value, as the spec lists them, and GP's two
    /// time codes (TEE Internal Core API, TEE_GetTAPersistentTime) the TA persistent time uses.
    static let specTable: [(String, UInt32)] = [
        ("SUCCESS", 0x0000_0000), ("GENERIC", 0xFFFF_0000), ("ACCESS_DENIED", 0xFFFF_0001),
        ("CANCEL", 0xFFFF_0002), ("ACCESS_CONFLICT", 0xFFFF_0003), ("EXCESS_DATA", 0xFFFF_0004),
        ("BAD_FORMAT", 0xFFFF_0005), ("BAD_PARAMETERS", 0xFFFF_0006), ("BAD_STATE", 0xFFFF_0007),
        ("ITEM_NOT_FOUND", 0xFFFF_0008), ("NOT_IMPLEMENTED", 0xFFFF_0009), ("NOT_SUPPORTED", 0xFFFF_000A),
        ("NO_DATA", 0xFFFF_000B), ("OUT_OF_MEMORY", 0xFFFF_000C), ("BUSY", 0xFFFF_000D),
        ("COMMUNICATION", 0xFFFF_000E), ("SECURITY", 0xFFFF_000F), ("SHORT_BUFFER", 0xFFFF_0010),
        ("EXTERNAL_CANCEL", 0xFFFF_0011), ("TIMEOUT", 0xFFFF_3001), ("OVERFLOW", 0xFFFF_300F),
        ("TARGET_DEAD", 0xFFFF_3024), ("STORAGE_NO_SPACE", 0xFFFF_3041), ("MAC_INVALID", 0xFFFF_3071),
        ("SIGNATURE_INVALID", 0xFFFF_3072), ("CORRUPT_OBJECT", 0xF010_0001),
        ("STORAGE_NOT_AVAILABLE", 0xF010_0003), ("TIME_NOT_SET", 0xFFFF_5000), ("TIME_NEEDS_RESET", 0xFFFF_5001),
    ]

    @Test func everySpecCodeIsNamedWithItsValue() {
        #expect(TEEResult.allNamed.count == Self.specTable.count)
        for (name, value) in Self.specTable {
            #expect(TEEResult(rawValue: value).name == name, "\(name)")
            #expect(TEEResult(name: name)?.rawValue == value, "\(name)")
            #expect(TEEResult(name: "TEE_ERROR_" + name)?.rawValue == value || name == "SUCCESS")
        }
        #expect(TEEResult.badParameters.rawValue == 0xFFFF_0006)
        #expect(TEEResult.targetDead.rawValue == 0xFFFF_3024)
        #expect(TEEResult.signatureInvalid.rawValue == 0xFFFF_3072)
    }

    @Test func printsHexAndName() {
        #expect(TEEResult.badParameters.description == "0xFFFF0006 (BAD_PARAMETERS)")
        #expect(TEEResult.success.description == "0x00000000 (SUCCESS)")
        #expect(TEEResult.corruptObject.description == "0xF0100001 (CORRUPT_OBJECT)")
    }

    @Test func unknownValuesPassThrough() {
        let custom = TEEResult(rawValue: 0x1234_ABCD)
        #expect(custom.name == nil)
        #expect(custom.rawValue == 0x1234_ABCD)
        #expect(custom.description == "0x1234ABCD")
        #expect(TEEResult(name: "NOT_A_CODE") == nil)
    }

    @Test func originsAndLogins() {
        #expect(ReturnOrigin.api.rawValue == 1 && ReturnOrigin.comms.rawValue == 2)
        #expect(ReturnOrigin.tee.rawValue == 3 && ReturnOrigin.trustedApp.rawValue == 4)
        #expect(ReturnOrigin.trustedApp.description == "TRUSTED_APP")
        #expect(ReturnOrigin(rawValue: 9).description == "origin 9")
        let logins: [(Login, UInt32, String)] = [
            (.public, 0, "PUBLIC"), (.user, 1, "USER"), (.group, 2, "GROUP"), (.application, 4, "APPLICATION"),
            (.userApplication, 5, "USER_APPLICATION"), (.groupApplication, 6, "GROUP_APPLICATION"),
            (.reeKernel, 0x8000_0000, "REE_KERNEL"), (.trustedApp, 0xF000_0000, "TRUSTED_APP"),
        ]
        for (login, value, name) in logins {
            #expect(login.rawValue == value)
            #expect(login.description == name)
        }
        #expect(!Login.trustedApp.isClientLogin)
        #expect(Login.reeKernel.isClientLogin)
        #expect(Login(rawValue: 3).description == "0x00000003")
    }
}
