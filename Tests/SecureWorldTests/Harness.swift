import Foundation
import HelloWorldTA
import Logging
import TEEEmbedded

/// A secure world with every test TA registered, and an embedded client context on it.
struct Harness {
    let world: SecureWorld
    let context: TEEContext
    let state: URL

    init() throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-sw-\(UUID().uuidString)")
        var logger = Logger(label: "test.secure-world")
        logger.logLevel = .critical
        world = SecureWorld(stateDirectory: state, logger: logger)
        world.register(HelloWorld.self)
        world.register(SingleSessionTA.self)
        world.register(MultiSessionTA.self)
        world.register(KeepAliveTA.self)
        world.register(MultiInstanceTA.self)
        world.register(GatekeeperTA.self)
        world.register(MemrefTA.self)
        world.register(StorageTA.self)
        world.register(OtherStorageTA.self)
        world.register(CryptoTA.self)
        world.register(pseudoTA: EchoPseudoTA())
        context = TEEContext.embedded(world)
    }

    func cleanUp() {
        context.finalize()
        try? FileManager.default.removeItem(at: state)
    }
}

/// Runs `body` and returns the client error it throws (nil if it succeeds).
func clientError(_ body: () throws(TEEClientError) -> Void) -> TEEClientError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}
