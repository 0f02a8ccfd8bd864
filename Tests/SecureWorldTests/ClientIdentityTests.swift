import Testing
@testable import SecureWorld
import TEEInternalAPI
import TEETransport

/// Client identities as Linux's TEE driver computes them (shared/spec/client-abi.md §3).
@Suite struct ClientIdentityTests {
    /// Known answers computed with CPython's `uuid.uuid5` (an independent RFC 4122/9562
    /// implementation; Python Software Foundation licence) in the namespace
    /// 58ac9ca0-2086-4683-a1b8-ec4bc08e01b6 that Linux's tee_core.c uses.
    @Test(arguments: [
        ("uid=0", "ef0180a3-13f3-5d1c-b7f5-888c0e21059a"),
        ("uid=3e8", "fc34275c-d8dd-5ba7-968b-504718363b87"),
        ("gid=0", "d93bc168-f863-58d3-a1fe-bb2039421b99"),
        ("gid=3e8", "0ece43ed-001d-51bd-bab7-480c8954c3cf"),
    ])
    func uuidV5KnownAnswers(name: String, expected: String) {
        #expect(SecureWorld.uuidV5(name).description == expected)
    }

    @Test func loginsMapAsLinuxMapsThem() throws {
        let peer = PeerCredentials(uid: 1000, gid: 100, pid: 1, groups: [27])
        #expect(try SecureWorld.identity(for: .public, peer: peer, connectionData: 0) == .zero)
        #expect(try SecureWorld.identity(for: .reeKernel, peer: peer, connectionData: 0) == .zero)
        #expect(try SecureWorld.identity(for: .user, peer: peer, connectionData: 0).description == "fc34275c-d8dd-5ba7-968b-504718363b87")
        #expect(try SecureWorld.identity(for: .group, peer: peer, connectionData: 100) == SecureWorld.uuidV5("gid=64"))
        #expect(try SecureWorld.identity(for: .group, peer: peer, connectionData: 27) == SecureWorld.uuidV5("gid=1b"), "a supplementary group")
        #expect(throws: TEEError(.accessDenied, origin: .tee)) { try SecureWorld.identity(for: .group, peer: peer, connectionData: 0) }
        for login in [Login.application, .userApplication, .groupApplication] {
            #expect(throws: TEEError(.notSupported, origin: .tee)) { try SecureWorld.identity(for: login, peer: peer, connectionData: 0) }
        }
    }
}
