import FirmwareImage
import Foundation
import RemoteProc
import TEEClient
import Testing
import TestSupport

/// The real `rproc-tee secure-world` binary in a process of its own, on a private socket.
final class DaemonProcess: @unchecked Sendable {
    static let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    /// The daemon (and so its TA hosts): this build's, or the one RPROC_TEE_TEST_TOOL names —
    /// `make test` runs these suites a second time against the release build, what `make
    /// install` ships (a closure-typed task-local once crashed it where the debug build ran).
    static let tool = ProcessInfo.processInfo.environment["RPROC_TEE_TEST_TOOL"].map { URL(fileURLWithPath: $0) }
        ?? binaries.appendingPathComponent("rproc-tee")
    static let testClient = binaries.appendingPathComponent("rproc-tee-testclient")

    let directory: URL
    let socket: String
    let process = Process()
    let logFile: URL

    /// `environment`: variables added to the test's own for the daemon (and so its TA hosts).
    init(board: String = "stm32mp15", extra: [String] = [], directory: URL? = nil, environment: [String: String] = [:]) throws {
        let dir = try directory ?? Self.temporaryDirectory()
        self.directory = dir
        socket = dir.appendingPathComponent("sock").path
        process.executableURL = Self.tool
        process.arguments = ["secure-world", "--socket", socket, "--state", dir.appendingPathComponent("state").path, "--board", board,
                             "--trusted-key", Repository.root.appendingPathComponent("Keys/dev-rsa2048.pub.pem").path,
                             "--trusted-key", Repository.root.appendingPathComponent("Keys/dev-ecdsa-p256.pub.pem").path,
                             "--log-level", "info",
                             // A test process killed before its cleanUp leaves no daemon behind.
                             "--exit-with-parent"] + extra
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe()
        process.standardOutput = out
        logFile = dir.appendingPathComponent("daemon.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        // Ready when it says so (the socket is listening by then).
        let line = out.fileHandleForReading.readLine()
        guard line.contains("listening on") else {
            process.waitUntilExit()
            throw DaemonError(message: "the daemon did not start: \(line) \((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")
        }
    }

    struct DaemonError: Error, CustomStringConvertible { let message: String; var description: String { message } }

    static func temporaryDirectory() throws -> URL {
        // Short: a Unix socket path is at most 107 bytes.
        let url = URL(fileURLWithPath: "/tmp/rtd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A daemon a failed test left behind is not left running.
    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Open descriptors and mapped areas of the daemon (for leak checks).
    /// Open descriptors beyond the two the daemon keeps per TA host process, its descriptor
    /// socket and the read end of its output pipe (hosts come and go with TA instances and the
    /// pool of ready hosts; clients' descriptors must not stay).
    var descriptors: Int { ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1) - 2 * children.count }
    var mappings: Int { procText("/proc/\(pid)/maps").split(separator: "\n").count }
    /// Client memory and channels the daemon maps (not its links to TA hosts).
    var sharedMappings: Int { procText("/proc/\(pid)/maps").split(separator: "\n").filter { $0.contains("memfd:rproc-tee-shm") || $0.contains("memfd:rproc-tee-channel") }.count }
    /// The daemon's child processes (TA hosts), from every thread's children list.
    var children: [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { procText("/proc/\(pid)/task/\($0)/children").split(separator: " ").compactMap { Int32($0) } }
    }
    /// Resident memory of the daemon, KiB.
    var residentKiB: Int {
        procText("/proc/\(pid)/status").split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") } ?? -1
    }

    /// Waits until `condition` holds (the daemon cleans up asynchronously), at most `seconds`.
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// SIGTERM and wait: the daemon's exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(pid, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    func killHard() {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// - Parameters:
    ///   - deliberateFaults: the test made a TA fault on purpose (os_test's bad memory
    ///     accesses): a sanitizer's report of a SEGV or SIGILL in a TA host is then expected.
    ///   - sanitizedTAs: the test ran TAs built with a sanitizer and made them err on purpose:
    ///     every report is expected (the test checks them itself).
    func cleanUp(deliberateFaults: Bool = false, sanitizedTAs: Bool = false) {
        stop()
        // Under `make test-tsan` / `test-asan` the daemon and its TA hosts are instrumented too;
        // their reports land in this log, not in the test's output.
        // An allocation refused past a TA's data limit is what the limit is for (the sanitizer's
        // allocator says "out of memory" where Swift's would trap).
        let faultMarkers = ["DEADLYSIGNAL", ": SEGV", ": ILL", "nested bug in the same thread"]
        let reports = log.components(separatedBy: "\n").filter { line in
            line.contains("Sanitizer:") && !line.contains("out of memory") && !line.contains("out-of-memory")
                && !(deliberateFaults && faultMarkers.contains { line.contains($0) })
        }
        #expect(sanitizedTAs || reports.isEmpty, "the daemon or a TA host reported: \(reports.prefix(3))")
        // RPROC_TEE_KEEP_DAEMON_LOGS=1 keeps the folder (the daemon's log) for a look afterwards.
        if ProcessInfo.processInfo.environment["RPROC_TEE_KEEP_DAEMON_LOGS"] == "1" { return }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A test client process (Tests/DaemonTestClient) doing one thing against a daemon.
final class ClientProcess {
    let process = Process()
    let out = Pipe()

    init(_ mode: String, socket: String, _ extra: [String] = [], asUID: UInt32? = nil) throws {
        process.executableURL = DaemonProcess.testClient
        process.arguments = [mode, socket] + extra
        if let asUID { process.environment = ProcessInfo.processInfo.environment.merging(["RPROC_TEE_TEST_AS_UID": String(asUID)]) { $1 } }
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The client's next line (it says "ready" when it is where the test wants it).
    func line() -> String { out.fileHandleForReading.readLine() }

    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension FileHandle {
    /// Reads up to a newline (or the end), byte by byte: no read-ahead is lost.
    func readLine() -> String {
        var bytes: [UInt8] = []
        while true {
            let d = readData(ofLength: 1)
            guard let b = d.first else { break }
            if b == 0x0A { break }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A /proc file's text (procfs files report size 0, so read to the end).
func procText(_ path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
}

/// The example M4 firmware signed with the development RSA key and a manifest (what the boot
/// tests load), and Linux's driver for coprocessor 0 over the platform bus of `context`.
enum ExampleBoot {
    static func signedM4() throws -> [UInt8] {
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: ImageBuilder.rsaKey)
        signer.manifest = Manifest()
        return try signer.sign()
    }

    static func driver(_ context: TEEContext, _ bus: PlatformBusClient) throws -> RemoteProcessor {
        RemoteProcessor(context: context, id: 0, name: "m4", memory: bus, map: try bus.deviceMap(coprocessor: 0))
    }
}
