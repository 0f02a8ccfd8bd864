import ArgumentParser
import FirmwareImage
import Foundation
import TEECrypto
import TEEEmbedded

struct BoardOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Built-in board (stm32mp15 / mp15, stm32mp25 / mp25) or a platform JSON file.", valueName: "name|file"))
    var board = "stm32mp15"

    @OptionGroup var trust: TrustOptions

    @Option(name: .long, help: ArgumentHelp("State folder for trusted storage (anti-rollback counters); a temporary one if absent.", valueName: "dir"))
    var state: String?

    func platform(extraKeys: [PublicKey] = []) throws -> Platform {
        let description: PlatformDescription
        do {
            if FileManager.default.fileExists(atPath: board) {
                description = try PlatformDescription(json: try readFile(board))
            } else {
                description = try PlatformDescription.builtIn(board)
            }
        } catch let error as PlatformError {
            throw CLIError("\(board): \(error)")
        }
        let keys = try trust.trustedKeys()
        return Platform(board: description, extraTrust: TrustedKeys(keys: keys.keys + extraKeys, keyHashes: keys.keyHashes, revoked: keys.revoked))
    }

    func stateDirectory() -> URL {
        state.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-\(getpid())")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a signed image on a board in one process and report.",
        discussion: "Runs the Linux remoteproc_tee boot sequence against the remoteproc TA, lets the coprocessor run, prints what was loaded where, the resource table and the trace, then shuts it down. Exit status 1 if the TA refuses the image."
    )

    @Argument(help: "Signed image (rproc-tee sign / OP-TEE's sign_rproc_fw.py).") var image: String
    @OptionGroup var board: BoardOptions
    @Option(name: .customLong("rproc-id"), help: "Coprocessor id.") var rprocID: UInt32 = 0
    @Option(name: .long, help: "Heartbeats to let the firmware run before reading the trace.") var ticks = 3
    @Flag(name: .long, help: "Show the secure world's log.") var verbose = false

    func validate() throws {
        if board.trust.isEmpty { throw ValidationError("provision at least one --trusted-key (or --key-hash)") }
    }

    func run() throws {
        let bytes = try readFile(image)
        let platform = try board.platform()
        guard let coprocessor = platform.coprocessors[rprocID] else { throw CLIError("\(board.board): no coprocessor \(rprocID)") }
        let state = board.stateDirectory()
        defer { if board.state == nil { try? FileManager.default.removeItem(at: state) } }
        var logger = secureLogger(verbose: verbose)
        if !verbose { logger.logLevel = .warning }
        let world = SecureWorld.remoteproc(platform: platform, stateDirectory: state, logger: logger)
        let context = TEEContext.embedded(world, peer: .kernel)   // this process plays Linux's kernel
        defer { context.finalize() }
        let driver = RemoteProcessor(context: context, id: rprocID, name: coprocessor.description.name, memory: NormalWorldMemory(platform: platform),
                                     map: DeviceMemoryMap(board: platform.board, coprocessor: rprocID)) { print("  \($0)") }
        print("\(image): booting on \(platform.board.name) coprocessor \(rprocID) (\(coprocessor.description.core))")
        do {
            try driver.boot(firmware: bytes)
        } catch {
            printError("\(image): refused: \(error)")
            throw ExitCode(1)
        }
        Demo.printSegments(platform, rprocID)
        coprocessor.tick(ticks)
        print("  trace:")
        for line in try driver.readTrace().split(separator: "\n") { print("    \(line)") }
        try driver.shutdown()
        print("  memory wiped: \(platform.isWiped(rprocID) ? "yes" : "NO")")
    }
}
