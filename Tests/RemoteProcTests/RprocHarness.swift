import FirmwareImage
import Foundation
import Logging
import RemoteProcTAInterface
import TEECrypto
import TEEEmbedded
import TestSupport

/// A board, its secure world with the remoteproc TA, a client context and a driver.
struct RprocHarness {
    let platform: Platform
    let world: SecureWorld
    let context: TEEContext
    let state: URL
    var log: [String] { logBox.lines }
    let logBox = LogBox()

    static let rsaKey = try! PrivateKey(pemOrDER: try! Repository.bytes("Keys/dev-rsa2048.pem"))
    static let ecKey = try! PrivateKey(pemOrDER: try! Repository.bytes("Keys/dev-ecdsa-p256.pem"))

    init(board: String = "stm32mp15", trust: TrustedKeys = TrustedKeys(keys: [rsaKey.publicKey, ecKey.publicKey]), state: URL? = nil) throws {
        try self.init(description: try PlatformDescription.builtIn(board), trust: trust, state: state)
    }

    init(description: PlatformDescription, trust: TrustedKeys = TrustedKeys(keys: [rsaKey.publicKey, ecKey.publicKey]), state: URL? = nil) throws {
        platform = Platform(board: description, extraTrust: trust)
        self.state = state ?? FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-rproc-\(UUID().uuidString)")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        world = SecureWorld.remoteproc(platform: platform, stateDirectory: self.state, logger: logger)
        context = TEEContext.embedded(world, peer: .kernel)
    }

    func driver(id: UInt32 = 0) -> RemoteProcessor {
        let box = logBox
        return RemoteProcessor(context: context, id: id, name: platform.board.coprocessors.first { $0.id == id }!.name,
                               memory: NormalWorldMemory(platform: platform), map: DeviceMemoryMap(board: platform.board, coprocessor: id),
                               log: { box.append($0) })
    }

    /// A raw session to the remoteproc TA, as the kernel opens it.
    func session(id: UInt32 = 0) throws -> TEESession {
        try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(id)))
    }

    func cleanUp() {
        context.finalize()
        try? FileManager.default.removeItem(at: state)
    }

    /// The M4 example (or `elf`) signed with the RSA development key (optionally with a manifest).
    static func m4Image(manifest: Manifest = Manifest(), key: PrivateKey = rsaKey, elf: [UInt8]? = nil) throws -> [UInt8] {
        var signer = ImageSigner(images: [try elf ?? ExampleFirmware.m4], key: key)
        signer.manifest = manifest
        return try signer.sign()
    }

    /// The M4 example with a manifest that carries only `counter` (anti-rollback tests).
    static func m4Image(counter: UInt32) throws -> [UInt8] {
        var manifest = Manifest()
        manifest.securityCounter = counter
        return try m4Image(manifest: manifest)
    }

    /// Lets coprocessor `id` run until the driver's trace satisfies `condition` (at most 10 s, or
    /// until it stops running) and returns the trace then.
    func trace(_ driver: RemoteProcessor, id: UInt32 = 0, until condition: (String) -> Bool) throws -> String {
        let coprocessor = platform.coprocessors[id]!
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let text = try driver.readTrace()
            if condition(text) || coprocessor.state != .running { return text }
            coprocessor.tick(1)
        }
        return try driver.readTrace()
    }

    /// Lets coprocessor `id` run until it is no longer running (at most 10 s).
    func waitForCrash(id: UInt32 = 0) -> Coprocessor.State {
        let coprocessor = platform.coprocessors[id]!
        let deadline = Date().addingTimeInterval(10)
        while coprocessor.state == .running, Date() < deadline { coprocessor.tick(1) }
        return coprocessor.state
    }

    /// The TF-M + Zephyr bundle for the M33, with boot addresses (`nonSecure`: another
    /// non-secure image in Zephyr's place).
    static func m33Bundle(nonSecure: [UInt8]? = nil) throws -> [UInt8] {
        var signer = ImageSigner(images: [try ExampleFirmware.tfmSecure, try nonSecure ?? ExampleFirmware.zephyrNonSecure], key: ecKey)
        var manifest = Manifest()
        manifest.names = ["tfm", "zephyr"]
        manifest.versions = [Manifest.Version("2.1.0")!, Manifest.Version("3.7.0")!]
        manifest.dependencies = [Manifest.Dependency(image: 1, dependsOn: 0, minimum: Manifest.Version("2.0.0")!)]
        manifest.bootAddresses = [.init(secure: 0x0E08_0000, nonSecure: nil), .init(secure: nil, nonSecure: 0x8000_0000)]
        signer.manifest = manifest
        return try signer.sign()
    }
}

final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    func append(_ s: String) { lock.withLock { _lines.append(s) } }
    var lines: [String] { lock.withLock { _lines } }
}

/// Invokes a remoteproc command with the rproc id and returns the client error (nil = success).
func rproc(_ s: TEESession, _ command: RemoteProcTA.Command, _ op: TEEOperation) -> TEEClientError? {
    do throws(TEEClientError) {
        try s.invoke(command.rawValue, op)
        return nil
    } catch {
        return error
    }
}
