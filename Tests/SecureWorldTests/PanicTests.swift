import Foundation
import Testing
import TEEEmbedded
import TEEInternalAPI

/// A TA that panics on request (command 1) or through a GP misuse that OP-TEE answers with a
/// panic (command 2: TEE_AsymmetricVerifyDigest on an operation that has no key).
final class PanickingTA: TrustedApplication {
    static let properties = TAProperties(uuid: "8a5e2c10-0b44-4e1c-9d1a-70616e696321", description: "panicker")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }

    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        switch command {
        case 1:
            tee.panic(0xDEAD_BEEF, "asked to")
        case 2:
            let op = try CryptoOperation(algorithm: .ecdsaP256, mode: .verify, maxKeySize: 256)
            try op.verifyDigest([UInt8](repeating: 0, count: 32), signature: [UInt8](repeating: 0, count: 64))
        default:
            throw .notSupported
        }
    }
}

func invokePanickingTA(_ command: UInt32) throws {
    let world = SecureWorld()
    world.register(PanickingTA.self)
    let context = TEEContext.embedded(world)
    let session = try context.openSession(PanickingTA.properties.uuid)
    try session.invoke(command, TEEOperation())
}

/// In embedded mode a panicking TA cannot be isolated from its client: the process ends, and the
/// message names the TA and the panic code (the daemon will isolate TAs in their own processes).
/// Exit tests run the body in a child process.
@Suite struct PanicTests {
    @Test func teePanicEndsTheProcessNamingTheTAAndCode() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            try invokePanickingTA(1)
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("TA \"panicker\" (8a5e2c10-0b44-4e1c-9d1a-70616e696321) panicked with code 0xDEADBEEF: asked to"), "\(stderr)")
        #expect(stderr.contains("In embedded mode a TA panic ends the process"))
    }

    @Test func verifyWithoutAKeyPanicsAsInOPTEE() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            try invokePanickingTA(2)
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("TA \"panicker\""), "\(stderr)")
        #expect(stderr.contains("not a verifying operation with a key"), "\(stderr)")
    }

    @Test func aNormalErrorDoesNotEndTheProcess() throws {
        #expect(throws: TEEClientError(.notSupported, origin: .trustedApp)) { try invokePanickingTA(3) }
    }
}
