import Foundation
import OPTEEExamplesTAInterface
import OPTEETestTAInterface
import TEEClient
import Testing
import TestSupport

/// `rproc-tee supplicant` against the real daemon: our own C plugin (Tests/CClients/
/// test_plugin.c) built as a shared object against the installed tee_plugin_method.h, loaded
/// by the supplicant process, called by the supp_plugin TA port (in its TA host process) for a
/// Swift client in this process — xtest 1033's checks across four processes. Then what happens
/// without a supplicant, with two, and when one is killed in the middle of a call.
@Suite(.serialized) struct SupplicantDaemonTests {
    /// The supplicant in a process of its own; its first line says what it loaded.
    final class SupplicantProcess {
        let process = Process()
        let out = Pipe()
        let errors: URL

        init(socket: String, plugins: URL, log: URL, pluginLog: URL? = nil) throws {
            errors = log
            process.executableURL = DaemonProcess.tool
            process.arguments = ["supplicant", "--socket", socket, "--plugin-path", plugins.path]
            if let pluginLog {
                var environment = ProcessInfo.processInfo.environment
                environment["RPROC_TEE_TEST_PLUGIN_LOG"] = pluginLog.path
                process.environment = environment
            }
            process.standardOutput = out
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
        }

        func line() -> String { out.fileHandleForReading.readLine() }
        var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        func signal(_ number: Int32) -> Int32 {
            kill(process.processIdentifier, number)
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// Installs the header set into `prefix` and builds the plugins into `prefix`/plugins — ours
    /// for optee_test's test plugin and for optee_examples' syslog plugin — with a file beside
    /// them that is not a plugin (tee-supplicant skips it, so must we).
    static func plugins(_ prefix: URL) throws -> URL {
        try CClientTests.install(prefix)
        let folder = prefix.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (source, uuid) in [("test_plugin", SupplicantPluginTA.testPlugin), ("log_plugin", PluginsExampleTA.syslogPlugin)] {
            let path = Repository.root.appendingPathComponent("Tests/CClients/\(source).c").path
            let object = folder.appendingPathComponent("\(uuid).plugin").path
            let cc = try CClientTests.compile(["-shared", "-fPIC", "-I", prefix.appendingPathComponent("include").path, path, "-o", object])
            #expect(cc.status == 0, "cc \(source).c: \(cc.output)")
        }
        try Data("not a plugin\n".utf8).write(to: folder.appendingPathComponent("README"))
        return folder
    }

    /// Its command line: a bad --max-data is a usage error (64), no daemon a clear refusal (66).
    @Test func commandLineRefusals() throws {
        let tool = DaemonProcess.tool
        let usage = try runMerged(tool, ["supplicant", "--max-data", "2"])
        #expect(usage.status == 64 && usage.output.contains("--max-data 2 is not between 4 and 1024 KiB"), "\(usage.output)")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let nobody = try runMerged(tool, ["supplicant", "--socket", dir.appendingPathComponent("none").path, "-p", dir.path])
        #expect(nobody.status == 66 && nobody.output.contains("no secure-world daemon at"), "\(nobody.output)")
    }

    @Test func pluginCallsAcrossProcesses() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let plugins = try Self.plugins(d.directory.appendingPathComponent("prefix"))
        let client = try TEEContext.connect(socket: d.socket)
        defer { client.finalize() }

        // No supplicant yet: the TA's ping fails, so does the session (as on Linux).
        #expect(throws: TEEClientError(.communication, origin: .trustedApp)) { _ = try client.openSession(SupplicantPluginTA.uuid) }

        let pluginLog = d.directory.appendingPathComponent("plugin-lines.log")
        let supplicant = try SupplicantProcess(socket: d.socket, plugins: plugins, log: d.directory.appendingPathComponent("supplicant.log"), pluginLog: pluginLog)
        let banner = supplicant.line()
        #expect(banner.contains("2 plugin(s)") && banner.contains("rproc-tee test plugin \(SupplicantPluginTA.testPlugin)")
                && banner.contains("rproc-tee log plugin \(PluginsExampleTA.syslogPlugin)"), "\(banner)")
        #expect(supplicant.stderr.contains("README skipped"), "\(supplicant.stderr)")
        #expect(d.eventually { d.log.contains("supplicant: uid") }, "the daemon saw the supplicant")
        try SupplicantChecks.xtest1033(client)

        // optee_examples' plugins TA, as its host calls it: each PING's line reaches the normal
        // world's plugin at LOG_INFO, counted per instance.
        let example = try client.openSession(PluginsExampleTA.uuid)
        for _ in 0..<3 { try example.invoke(PluginsExampleTA.Command.ping.rawValue) }
        example.close()
        let lines = ((try? String(contentsOf: pluginLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        #expect(lines == (0..<3).map { "6 Hello, plugin! value = 0x\($0)" }, "\(lines)")

        // A second supplicant is refused (BUSY) and says so.
        let second = try SupplicantProcess(socket: d.socket, plugins: plugins, log: d.directory.appendingPathComponent("second.log"))
        _ = second.line()
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 1 && second.stderr.contains("BUSY"), "\(second.stderr)")

        // Cancelled in the middle of a call (the plugin sleeps 3 s on 's'; the TA keeps
        // cancellation masked): once the TA is overdue (1 s) its wait for the supplicant ends,
        // the TA answers CANCEL, not when the plugin would have; the late answer is dropped and
        // the next call waits its turn.
        do {
            let op = TEEOperation(.valueInout(5, 1), .valueInput(UInt32(UInt8(ascii: "s")), 0))
            let session = try client.openSession(SupplicantPluginTA.uuid)
            let call = BackgroundCall { () throws(TEEClientError) in try session.invoke(SupplicantPluginTA.Command.passValues.rawValue, op) }
            usleep(300_000)
            let start = Date()
            op.requestCancellation()
            #expect(call.result(within: 10) == .cancel)
            #expect(Date().timeIntervalSince(start) < 2.5, "ended at the abandonment deadline (1 s), not with the plugin (2.7 s)")
            let values = TEEOperation(.valueInout(7, 2), .valueInput(UInt32(UInt8(ascii: "-")), 0))
            try session.invoke(SupplicantPluginTA.Command.passValues.rawValue, values)
            #expect(values.value(0)?.a == 5)
            session.close()
        }

        // Killed in the middle of a call (the plugin sleeps 3 s on 's'): the TA's call ends
        // with COMMUNICATION at once, not when the plugin would have answered.
        let session = try client.openSession(SupplicantPluginTA.uuid)
        let call = BackgroundCall { () throws(TEEClientError) in
            try session.invoke(SupplicantPluginTA.Command.passValues.rawValue, TEEOperation(.valueInout(5, 1), .valueInput(UInt32(UInt8(ascii: "s")), 0)))
        }
        usleep(500_000)
        let start = Date()
        _ = supplicant.signal(SIGKILL)
        #expect(call.result(within: 10) == .communication)
        #expect(Date().timeIntervalSince(start) < 2, "ended when the supplicant died")
        #expect(d.eventually { d.log.contains("supplicant gone") })

        // Another supplicant serves the same session; SIGTERM stops it cleanly.
        let third = try SupplicantProcess(socket: d.socket, plugins: plugins, log: d.directory.appendingPathComponent("third.log"))
        _ = third.line()
        #expect(d.eventually { d.log.components(separatedBy: "supplicant: uid").count == 3 })
        let values = TEEOperation(.valueInout(7, 2), .valueInput(UInt32(UInt8(ascii: "+")), 0))
        try session.invoke(SupplicantPluginTA.Command.passValues.rawValue, values)
        #expect(values.value(0)?.a == 9)
        session.close()
        #expect(third.signal(SIGTERM) == 0, "\(third.stderr)")
    }
}
