import ArgumentParser
import FirmwareImage
import Foundation
import Logging
import TEECrypto
import RemoteProcTAInterface
import TEEEmbedded

struct BoardOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Built-in board (stm32mp15 / mp15, stm32mp25 / mp25) or a platform JSON file.", valueName: "name|file"))
    var board = "stm32mp15"

    @OptionGroup var trust: TrustOptions

    @Option(name: .long, help: ArgumentHelp("State folder for trusted storage (anti-rollback counters); a fresh temporary one (mkdtemp, removed at exit) if absent.", valueName: "dir"))
    var state: String?

    /// A board by built-in name, or from a platform file (a path with a slash or ending in
    /// .json, or any existing file), with `trust` provisioned.
    static func platform(named board: String, trust: TrustedKeys) throws -> Platform {
        let description: PlatformDescription
        do {
            if let source = PlatformDescription.builtInSource(board), !FileManager.default.fileExists(atPath: board) {
                description = try PlatformDescription(json: Array(source.utf8))
            } else if board.contains("/") || board.hasSuffix(".json") || FileManager.default.fileExists(atPath: board) {
                description = try PlatformDescription(json: try Files.read(board, limit: Files.maxBoardFile, what: "board file"))
            } else {
                description = try PlatformDescription.builtIn(board)
            }
        } catch let error as PlatformError {
            throw CLIError(.badInput, "\(board):\(escaped("\(error)"))".replacingOccurrences(of: "\(board):(root)", with: "\(board): (root)"))
        }
        return Platform(board: description, extraTrust: trust)
    }

    func platform() throws -> Platform {
        try Self.platform(named: board, trust: try trust.trustedKeys())
    }
}

/// The secure world's log, kept for the user: printed as it comes with --verbose, otherwise
/// shown only when it explains a refusal.
final class LogCapture: @unchecked Sendable {
    // @unchecked: `lines` is guarded by `lock`.
    private let lock = NSLock()
    private var lines: [(Logger.Level, String)] = []
    let echo: Bool
    init(echo: Bool) { self.echo = echo }

    func add(_ level: Logger.Level, _ message: String) {
        lock.withLock { lines.append((level, message)) }
        if echo { print("      secure| \(level >= .warning ? "\(level): " : "")\(escaped(message))") }
    }

    /// What the TA and the platform said about a refusal: warnings, and the TA's own lines.
    var reasons: [String] { lock.withLock { lines.filter { $0.0 >= .warning || $0.1.hasPrefix("[remoteproc]") }.map(\.1) } }
    var notes: [String] { lock.withLock { lines.filter { $0.1.hasPrefix("[remoteproc]") && $0.1.contains("no trace window") }.map(\.1) } }

    var logger: Logger {
        Logger(label: "rproc-tee.secure-world") { _ in CaptureHandler(capture: self) }
    }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { capture.add(event.level, "\(event.message)") }
    }
}

/// An offline LOAD through the real remoteproc TA on `platform`, then RELEASE: every check the
/// TA makes on that board, nothing kept (fresh trusted storage, removed at the end).
enum DryRun {
    static func load(_ image: [UInt8], platform: Platform, rprocID: UInt32) throws -> (refusal: String?, notes: [String]) {
        guard platform.coprocessors[rprocID] != nil else { throw CLIError(.usage, "\(escaped(platform.board.name)): no coprocessor \(rprocID)") }
        let state = try StateDirectory(nil)
        defer { state.cleanUp() }
        let log = LogCapture(echo: false)
        let world = SecureWorld.remoteproc(platform: platform, stateDirectory: state.url, logger: log.logger)
        let context = TEEContext.embedded(world, peer: .kernel)   // this process plays Linux's kernel
        defer { context.finalize() }
        do {
            let session = try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(rprocID)))
            defer { session.close() }
            try session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, TEEOperation(.valueInput(rprocID), .tempInput(image)))
            try session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(rprocID)))
            return (nil, log.notes)
        } catch {
            return ("\(error)" + (log.reasons.isEmpty ? "" : " — " + log.reasons.joined(separator: "; ")), log.notes)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a signed image on a board in one process and report.",
        discussion: """
            Runs the Linux remoteproc_tee boot sequence against the remoteproc TA, lets the coprocessor run, prints what was loaded where, the resource table and the trace, then shuts it down. Exit status 1 if the TA refuses the image (its reason is printed).
            The coprocessor is an emulated Cortex-M core (Unicorn): START runs the authenticated firmware in place from its vector table, with only the memory the running firewall gives the coprocessor mapped (any other access is a bus fault). The trace printed is what the firmware itself wrote into its trace buffer; if it crashed, the reason is printed. The core's exception model (NVIC, SysTick, SVC, PendSV, WFI) is the host's; peripherals are not emulated. Unicorn 2.0.1 runs a Cortex-M4 as a Cortex-M33 (said in the output).
            """
    )

    static let maxTicks = 1_000

    @Argument(help: "Signed image (rproc-tee sign / OP-TEE's sign_rproc_fw.py).") var image: String
    @OptionGroup var board: BoardOptions
    @Option(name: .customLong("rproc-id"), help: "Coprocessor id.") var rprocID: UInt32 = 0
    @Option(name: .long, help: "Slices of a million emulated instructions the firmware runs before its trace is read (0 to \(Run.maxTicks)).") var ticks = 3
    @Option(name: .customLong("core-dump"), help: ArgumentHelp("If the firmware crashes, write its core dump (ELF core: registers and memory) here, mode 0600; read it with rproc-tee coredump or gdb-multiarch.", valueName: "file"))
    var coreDumpPath: String?
    @Flag(name: .long, help: "Show the secure world's log.") var verbose = false
    @Flag(name: .long, help: "JSON output for scripts.") var json = false
    @Option(name: .long, help: ArgumentHelp("Boot on the secure-world daemon (rproc-tee secure-world) at this socket instead of in this process; alone (after the image), the default socket. The daemon's board and keys apply.", valueName: "socket"))
    var daemon: String?

    func run() throws {
        if let coreDumpPath, FileManager.default.fileExists(atPath: coreDumpPath) || (try? FileManager.default.destinationOfSymbolicLink(atPath: coreDumpPath)) != nil {
            // Checked before booting too (the write itself is O_EXCL|O_NOFOLLOW): a run that
            // would end unable to save its dump is refused before it starts.
            try perform(json: json) { throw CLIError(.cannotWrite, "cannot write \(escaped(coreDumpPath)): exists (refused; the dump is never written over a file)") }
        }
        if let daemon { return try runOnDaemon(daemon) }
        try perform(json: json) {
            guard !board.trust.isEmpty else { throw CLIError(.usage, "provision at least one --trusted-key (or --key-hash)") }
            // Attacker-free but user-given: the run is bounded in time by bounding --ticks.
            guard (0...Self.maxTicks).contains(ticks) else { throw CLIError(.usage, "--ticks must be 0 to \(Self.maxTicks), not \(ticks)") }
            let platform = try board.platform()
            guard let coprocessor = platform.coprocessors[rprocID] else { throw CLIError(.usage, "\(board.board): no coprocessor \(rprocID)") }
            let state = try StateDirectory(board.state)
            defer { state.cleanUp() }
            let log = LogCapture(echo: verbose && !json)
            let world = SecureWorld.remoteproc(platform: platform, stateDirectory: state.url, logger: log.logger)
            let context = TEEContext.embedded(world, peer: .kernel)   // this process plays Linux's kernel
            defer { context.finalize() }
            var driverLog: [String] = []
            let driver = RemoteProcessor(context: context, id: rprocID, name: coprocessor.description.name, memory: NormalWorldMemory(platform: platform),
                                         map: DeviceMemoryMap(board: platform.board, coprocessor: rprocID)) { line in
                driverLog.append(line)
                if !json { print("  \(escaped(line))") }
            }
            // The image goes straight from the file into shared memory, 1 MiB at a time: it is
            // held once, where the TA reads it.
            let firmware = try Files.imageInSharedMemory(image, context)
            if !json {
                print("\(escaped(image)): booting on \(escaped(platform.board.name)) coprocessor \(rprocID) (\(escaped(coprocessor.description.core)))")
                // Unicorn 2.0.1 runs every M-profile core as a Cortex-M33 (README "The emulated coprocessor").
                if coprocessor.description.core.lowercased() != "cortex-m33" {
                    print("  note: emulated by Unicorn 2.0.1 as a Cortex-M33 (ARMv8-M Mainline): v8-M-only instructions do not fault; the exception model is v7-M-compatible")
                }
            }
            do {
                try driver.boot(firmware: firmware)
            } catch {
                let reasons = log.reasons
                throw CLIError(.refused, "\(image): refused: \(error)" + (reasons.isEmpty ? "" : "\n" + reasons.map { "  secure world: \(escaped($0))" }.joined(separator: "\n")))
            }
            if !json { Demo.printSegments(platform, rprocID) }
            coprocessor.tick(ticks)
            let crash = coprocessor.status.reason
            if let crash, !json { print("  the coprocessor crashed: \(escaped(crash))") }
            let dumpWritten = try writeCoreDump(driver, crash: crash)
            let (trace, traceError) = readTrace(driver)
            let segments = platform.loadedSegments(of: rprocID)
            try driver.shutdown()
            let wiped = platform.isWiped(rprocID)
            if json {
                print(JSONText.encode([
                    "ok": true, "image": image, "board": platform.board.name, "rproc_id": rprocID, "core": coprocessor.description.core,
                    "segments": segments.map { ["region": $0.region, "device_address": $0.deviceAddress, "size": $0.size, "executable": $0.executable] as [String: Any] },
                    "resource_table": driver.tableAddress.map { ["physical_address": $0.pa, "size": $0.size] as [String: Any] },
                    "trace": trace, "trace_error": traceError, "crash": crash, "core_dump": dumpWritten, "driver_log": driverLog, "wiped": wiped,
                ] as [String: Any?]))
            } else {
                print("  memory wiped: \(wiped ? "yes" : "NO")")
            }
        }
    }
}

extension Run {
    /// The same boot, across processes: this process is the normal-world kernel, the daemon
    /// the secure world. The image goes from the file into shared memory the daemon maps (it
    /// is never copied into a message); the resource table and trace are read through the
    /// daemon's platform bus, under the same firewall.
    func runOnDaemon(_ socket: String) throws {
        try perform(json: json) {
            guard (0...Self.maxTicks).contains(ticks) else { throw CLIError(.usage, "--ticks must be 0 to \(Self.maxTicks), not \(ticks)") }
            let context: TEEContext
            do { context = try TEEContext.connect(socket: socket) } catch {
                throw CLIError(.cannotRead, escaped((error as? TEEClientError)?.reason ?? "no secure-world daemon at \(socket) (start one with: rproc-tee secure-world)"))
            }
            defer { context.finalize() }
            let bus: PlatformBusClient
            let map: DeviceMemoryMap
            do {
                bus = try PlatformBusClient(context: context)
                map = try bus.deviceMap(coprocessor: rprocID)
            } catch let error as TEEClientError where error.result == .accessDenied {
                throw CLIError(.refused, "the daemon refused this process the normal-world kernel's bus (\(error)): is its uid a --kernel-uid of the daemon?")
            } catch {
                throw CLIError(.refused, "the daemon refused this process the normal-world kernel's bus (\(error))")
            }
            let firmware = try Files.imageInSharedMemory(image, context)
            var driverLog: [String] = []
            let driver = RemoteProcessor(context: context, id: rprocID, name: "rproc\(rprocID)", memory: bus, map: map) { line in
                driverLog.append(line)
                if !json { print("  \(escaped(line))") }
            }
            if !json { print("\(escaped(image)): booting on the daemon at \(escaped(socket)), coprocessor \(rprocID)") }
            do {
                try driver.boot(firmware: firmware)
            } catch {
                throw CLIError(.refused, "\(escaped(image)): refused: \(error) (the daemon's log has the TA's reason)")
            }
            try bus.tick(rprocID, UInt32(ticks))
            let crash = try? bus.status(rprocID).reason
            if let crash, !json { print("  the coprocessor crashed: \(escaped(crash))") }
            let dumpWritten = try writeCoreDump(driver, crash: crash ?? nil)
            let (trace, traceError) = readTrace(driver)
            try driver.shutdown()
            // After RELEASE the default firewall opens the memory again: read it all back.
            var wiped = true
            for range in map.ranges {
                var at: UInt64 = 0
                while at < range.size, wiped {
                    let n = Int(min(UInt64(PlatformBus.maxTransfer), range.size - at))
                    if let bytes = try? bus.read(pa: range.pa + at, count: n) { wiped = bytes.allSatisfy { $0 == 0 } }
                    at += UInt64(n)
                }
            }
            if json {
                print(JSONText.encode(["ok": true, "image": image, "daemon": socket, "rproc_id": rprocID,
                                       "resource_table": driver.tableAddress.map { ["physical_address": $0.pa, "size": $0.size] as [String: Any] },
                                       "trace": trace, "trace_error": traceError, "crash": crash as Any?, "core_dump": dumpWritten as Any?, "driver_log": driverLog, "wiped": wiped] as [String: Any?]))
            } else {
                print("  memory wiped (read back through the normal world's bus): \(wiped ? "yes" : "NO")")
            }
        }
    }
}

extension Run {
    /// After a crash: the driver learns of it and, with --core-dump, fetches the dump
    /// (GET_COREDUMP) and writes it. Returns the path written, if any.
    func writeCoreDump(_ driver: RemoteProcessor, crash: String?) throws -> String? {
        guard let crash else { return nil }
        driver.reportCrash(crash)
        guard let coreDumpPath else { return nil }
        let dump: [UInt8]
        do { dump = try driver.coreDump() } catch {
            throw CLIError(.refused, "the firmware crashed but GET_COREDUMP failed: \(error)")
        }
        try Files.create(coreDumpPath, dump, mode: 0o600)
        if !json { print("  core dump: \(escaped(coreDumpPath)) (\(dump.count) bytes; rproc-tee coredump \(escaped(coreDumpPath)))") }
        return coreDumpPath
    }

    /// The trace as the normal world reads it, printed unless --json. A denied read (no window
    /// over code or secure memory) is the platform's answer, shown, not a failure of the run.
    func readTrace(_ driver: RemoteProcessor) -> (String?, String?) {
        var trace: String?, traceError: String?
        do throws(RemoteProcError) { trace = try driver.readTrace() } catch { traceError = error.reason }
        if !json {
            if let trace {
                print("  trace:")
                for line in trace.split(separator: "\n") { print("    \(escaped(String(line)))") }
            } else {
                print("  trace: not readable by the normal world: \(escaped(traceError ?? ""))")
            }
        }
        return (trace, traceError)
    }
}
