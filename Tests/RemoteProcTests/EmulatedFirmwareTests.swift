import FirmwareImage
import Foundation
import RemoteProc
@testable import SecureWorld
import Testing
import TEEEmbedded
import TestSupport

/// START runs the authenticated firmware on the emulated core, in place: the example firmware's
/// own text, its real faults (with addresses and registers in the core dump), STOP of a busy
/// loop, recovery, the M33's secure → non-secure hand-over, the IPC region, the watchdog.
@Suite struct EmulatedFirmwareTests {
    /// The crash firmware writes to SYSRAM (no firewall grants it to the coprocessor) after its
    /// third tick: a bus fault at that address, the coprocessor crashed with the reason, the
    /// core dump's NT_PRSTATUS registers are the emulator's at the fault, and recovery boots the
    /// same image again (which crashes again, the same way).
    @Test func aFirewalledWriteCrashesAndRecoveryBootsAgain() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        let image = try RprocHarness.m4Image(elf: try ExampleFirmware.m4Crash)
        try driver.boot(firmware: image)
        let coprocessor = h.platform.coprocessors[0]!
        #expect(h.waitForCrash() == .crashed)
        let status = coprocessor.status
        #expect(status.reason?.hasPrefix("bus fault: write at 0x2ffc0000") == true, "\(status.reason ?? "nil")")
        #expect(status.signal == 11)
        #expect(try driver.readTrace().hasPrefix("cm4: firmware up\ncm4: tick 1\ncm4: tick 2\ncm4: tick 3\ncm4: writing to SYSRAM\n"))
        driver.reportCrash(status.reason!)
        #expect(driver.state == .crashed && driver.crashReason == status.reason)

        let dump = try CoreDumpReader(bytes: try driver.coreDump())
        let registers = try #require(dump.registers)
        #expect(registers == coprocessor.lastRegisters)
        #expect(registers.count == 17)
        // The faulting store's address register holds SYSRAM; the PC is in the loaded code, the
        // SP in MCUSRAM below the stack top the vector table gave.
        #expect(registers[0...12].contains(0x2FFC_0000))
        let code = try #require(h.platform.loadedSegments(of: 0).first { $0.executable })
        #expect(UInt64(registers[15]) >= code.deviceAddress && UInt64(registers[15]) < code.deviceAddress + code.size)
        #expect(registers[13] > 0x1000_0000 && registers[13] <= 0x1004_0000)
        #expect(registers[16] & (1 << 24) != 0, "xPSR's Thumb bit")
        #expect(dump.signal == 11)
        #expect(dump.fields["crash"]?.hasPrefix("bus fault: write at 0x2ffc0000") == true)
        #expect(dump.fields["state"] == "crashed")
        // The RETRAM segment of the dump holds the firmware's code as loaded.
        let retram = try #require(dump.segments.first { $0.deviceAddress == 0 })
        #expect(retram.physicalAddress == 0x3800_0000 && retram.size == 0x10000)

        try driver.recover(firmware: image)
        #expect(driver.state == .running && driver.crashReason == nil)
        #expect(coprocessor.state == .running)
        #expect(coprocessor.lastRegisters.isEmpty)
        #expect(h.waitForCrash() == .crashed)
        #expect(coprocessor.status.reason?.hasPrefix("bus fault: write at 0x2ffc0000") == true)
        try driver.shutdown()
        #expect(h.platform.isWiped(0))
        #expect(coprocessor.state == .off)
    }

    /// A debugger reads the dump as an Arm core file: the PC and r0 it reports are the
    /// emulator's. Runs where a debugger that knows Arm is installed (gdb-multiarch, or an lldb
    /// that starts — the toolchain's needs libpython3.10); otherwise shows as skipped.
    @Test(.enabled(if: Debugger.available != nil, "no Arm-capable debugger (gdb-multiarch or a working lldb)"))
    func aDebuggerReadsTheCoreDumpRegisters() throws {
        let debugger = try #require(Debugger.available)
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image(elf: try ExampleFirmware.m4Crash))
        #expect(h.waitForCrash() == .crashed)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-core-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(try driver.coreDump()).write(to: file)
        let registers = h.platform.coprocessors[0]!.lastRegisters
        let out = try debugger.registers(core: file.path)
        #expect(out[15] == registers[15], "pc: \(out)")
        #expect(out[0] == registers[0], "r0: \(out)")
        #expect(out[13] == registers[13], "sp: \(out)")
        try driver.shutdown()
    }

    /// STOP ends a firmware that never yields (the example spins) within a bounded time, and
    /// the wiped memory holds nothing it wrote.
    @Test func stopEndsABusyLoop() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image())
        _ = try h.trace(driver) { $0.contains("cm4: tick 1\n") }
        let started = Date()
        try driver.shutdown()
        #expect(Date().timeIntervalSince(started) < 2, "STOP + RELEASE of a spinning firmware")
        #expect(h.platform.coprocessors[0]!.state == .off)
        #expect(h.platform.isWiped(0))
    }

    /// The M33: the TF-M-like secure image boots from the manifest's secure vector table and
    /// hands over (BLXNS) to the Zephyr-like non-secure image, whose own trace then appears.
    @Test func m33SecureImageHandsOverToTheNonSecureImage() throws {
        let h = try RprocHarness(board: "stm32mp25")
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m33Bundle())
        let trace = try h.trace(driver) { $0.contains("zephyr: tick 2\n") }
        #expect(trace.hasPrefix("zephyr: booting on cortex-m33 (non-secure)\nzephyr: tick 1\nzephyr: tick 2\n"), "\(trace)")
        #expect(h.platform.coprocessors[0]!.state == .running)
        try driver.shutdown()
    }

    /// After the hand-over the secure memory is not the non-secure image's: its read of secure
    /// SRAM is a bus fault at that address.
    @Test func aNonSecureReadOfSecureMemoryFaults() throws {
        let h = try RprocHarness(board: "stm32mp25")
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m33Bundle(nonSecure: try ExampleFirmware.zephyrPeek))
        #expect(h.waitForCrash() == .crashed)
        let reason = try #require(h.platform.coprocessors[0]!.status.reason)
        #expect(reason.hasPrefix("bus fault: read at 0xe080000"), "\(reason)")
        #expect(try driver.readTrace().contains("zephyr: reading secure SRAM\n"))
        let registers = try #require(try CoreDumpReader(bytes: try driver.coreDump()).registers)
        #expect(registers[15] >= 0x8000_0000 && registers[15] < 0x8008_0000, "the PC is in the non-secure code")
        try driver.shutdown()
    }

    /// An undefined instruction is an exception the core cannot take (no NVIC): the coprocessor
    /// crashes with SIGILL, on the M4 and in the M33's non-secure image after the hand-over (which
    /// happens once: the non-secure image's own exception is not taken for another hand-over).
    @Test(arguments: ["stm32mp15", "stm32mp25"])
    func anUndefinedInstructionCrashes(board: String) throws {
        let h = try RprocHarness(board: board)
        defer { h.cleanUp() }
        let driver = h.driver()
        let mp25 = board == "stm32mp25"
        try driver.boot(firmware: mp25 ? try RprocHarness.m33Bundle(nonSecure: try ExampleFirmware.zephyrUDF) : try RprocHarness.m4Image(elf: try ExampleFirmware.m4UDF))
        #expect(h.waitForCrash() == .crashed)
        let status = h.platform.coprocessors[0]!.status
        #expect(status.signal == 4, "\(status.reason ?? "nil")")
        #expect(status.reason?.hasPrefix("Invalid instruction (UC_ERR_INSN_INVALID) at pc 0x") == true, "\(status.reason ?? "nil")")
        #expect(try driver.readTrace().contains(mp25 ? "zephyr: executing UDF\n" : "cm4: executing UDF\n"))
        // The trace shows one boot: the image was not restarted by a second hand-over.
        #expect(try driver.readTrace().components(separatedBy: mp25 ? "zephyr: booting" : "cm4: firmware up").count == 2)
        let pc = try #require(try CoreDumpReader(bytes: try driver.coreDump()).registers)[15]
        #expect(mp25 ? pc >= 0x8000_0000 : pc < 0x1_0000, "the PC is at the UDF, in the code: \(String(pc, radix: 16))")
        try driver.shutdown()
    }

    /// The IPC firmware answers a mailbox in the shared IPC region: the normal world writes a
    /// request through its window, the firmware's reply appears there.
    @Test func theFirmwareAnswersThroughTheIPCRegion() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image(elf: try ExampleFirmware.m4IPC))
        let mailbox: UInt64 = 0x3004_6000   // DA 0x10046000: request_seq, reply_seq, request[56], reply[64]
        for (seq, text) in [(UInt32(1), "ping"), (2, "hello from linux")] {
            try h.platform.write(.normal, pa: mailbox + 8, bytes: Array(text.utf8) + [0])
            try h.platform.write(.normal, pa: mailbox, bytes: withUnsafeBytes(of: seq.littleEndian, Array.init))
            let deadline = Date().addingTimeInterval(10)
            var reply: [UInt8] = []
            while Date() < deadline {
                reply = try h.platform.read(.normal, pa: mailbox + 4, count: 4)
                if reply == withUnsafeBytes(of: seq.littleEndian, Array.init) { break }
                h.platform.coprocessors[0]!.tick(1)
            }
            #expect(reply == withUnsafeBytes(of: seq.littleEndian, Array.init), "reply sequence")
            let answer = try h.platform.read(.normal, pa: mailbox + 64, count: 64)
            #expect(String(decoding: answer.prefix { $0 != 0 }, as: UTF8.self) == "cm4: echo \(text)")
        }
        #expect(try driver.readTrace().contains("cm4: ipc request 2\n"))
        try driver.shutdown()
    }

    /// A board with a watchdog: the plain example never feeds it and crashes with "watchdog
    /// expired"; the watchdog example feeds it on every tick and keeps running.
    @Test func anUnfedWatchdogCrashesTheCoprocessor() throws {
        var json = try #require(PlatformDescription.builtInSource("stm32mp15"))
        json = json.replacingOccurrences(of: "\"core\": \"cortex-m4\",", with: "\"core\": \"cortex-m4\", \"watchdog\": { \"deviceAddress\": \"0x5a002000\", \"timeoutInstructions\": 2000000 },")
        let board = try PlatformDescription(json: Array(json.utf8))
        #expect(board.coprocessors[0].watchdog == .init(deviceAddress: 0x5A00_2000, timeoutInstructions: 2_000_000))

        let h = try RprocHarness(description: board)
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image())
        #expect(h.waitForCrash() == .crashed)
        let status = h.platform.coprocessors[0]!.status
        #expect(status.reason?.hasPrefix("watchdog expired: not fed for 2000000 instructions") == true, "\(status.reason ?? "nil")")
        #expect(status.signal == 14)
        #expect(try CoreDumpReader(bytes: try driver.coreDump()).signal == 14)
        try driver.shutdown()

        try driver.boot(firmware: try RprocHarness.m4Image(elf: try ExampleFirmware.m4Watchdog))
        let trace = try h.trace(driver) { $0.contains("cm4: tick 8\n") }
        #expect(trace.contains("cm4: tick 8\n"), "ran well past the timeout: \(trace)")
        #expect(h.platform.coprocessors[0]!.state == .running)
        try driver.shutdown()
    }

    /// The STM32MP15 board's IPCC: the normal world kicks channels 1, 2 and 3; the firmware's RX
    /// interrupt (NVIC line 103, level-sensitive) acknowledges each and kicks it back, and sits
    /// in WFI in between — the normal world's wait blocks until then. STOP's shutdown request is
    /// acknowledged; firmware that never listens to the mailbox is stopped without one.
    @Test func theMailboxKicksBothWays() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image(elf: try ExampleFirmware.m4Mailbox))
        _ = try h.trace(driver) { $0.contains("mbox: up\n") }
        let coprocessor = try #require(h.platform.coprocessors[0])
        #expect(coprocessor.waitForKick(timeout: 0.05) == 0, "no kick before the normal world's")
        for channel in 1...3 {
            #expect(coprocessor.kick(channel: channel))
            #expect(coprocessor.waitForKick(timeout: 10) == 1 << UInt32(channel - 1), "channel \(channel)")
            #expect(coprocessor.unacknowledgedKicks == 0)
        }
        let trace = try h.trace(driver) { $0.contains("shutdown requested") }
        #expect(trace.contains("mbox: kick on channel 1\nmbox: kick on channel 2\nmbox: shutdown requested\n"), "\(trace)")
        #expect(!coprocessor.kick(channel: 7), "the board has 6 channels")
        // The same through the platform bus, as a driver in another process kicks and waits.
        let bus = try PlatformBusClient(context: h.context)
        try bus.kick(0, channel: 2)
        #expect(try bus.waitForKick(0, milliseconds: 10_000) == 0b10)
        #expect(try bus.waitForKick(0, milliseconds: 20) == 0, "nothing more: the wait times out")
        #expect(throws: TEEClientError.self) { try bus.kick(0, channel: 9) }
        #expect(throws: TEEClientError.self) { _ = try bus.waitForKick(0, milliseconds: 60_000) }
        // STOP asks the listening firmware to shut down on channel 3 and waits for its
        // acknowledgement, as ST's driver does.
        #expect(coprocessor.state == .running)
        try driver.shutdown()
        #expect(coprocessor.lastShutdownAcknowledged == true)
        #expect(coprocessor.state == .off)
        // The plain example never enables the mailbox's interrupt: stopped without a request.
        try driver.boot(firmware: try RprocHarness.m4Image())
        try driver.shutdown()
        #expect(coprocessor.lastShutdownAcknowledged == nil)
    }

    /// Board files with a broken mailbox are refused with a specific error.
    @Test(arguments: [
        ("\"deviceAddress\": \"0x4c001004\", \"channels\": 6, \"rxIRQ\": 103, \"txIRQ\": 104", "4 KiB-aligned page"),
        ("\"deviceAddress\": \"0x4c001000\", \"channels\": 7, \"rxIRQ\": 103, \"txIRQ\": 104", "channels must be 1 to 6"),
        ("\"deviceAddress\": \"0x4c001000\", \"channels\": 6, \"rxIRQ\": 103, \"txIRQ\": 103", "two distinct NVIC lines"),
        ("\"deviceAddress\": \"0x4c001000\", \"channels\": 6, \"rxIRQ\": 240, \"txIRQ\": 104", "two distinct NVIC lines"),
        ("\"deviceAddress\": \"0x10000000\", \"channels\": 6, \"rxIRQ\": 103, \"txIRQ\": 104", "overlaps region MCUSRAM"),
        ("\"deviceAddress\": \"0x4c001000\", \"channels\": 6, \"rxIRQ\": 103", "txIRQ"),
    ])
    func brokenMailboxesAreRefused(_ mailbox: String, _ message: String) throws {
        var json = try #require(PlatformDescription.builtInSource("stm32mp15"))
        let start = try #require(json.range(of: "\"mailbox\": {")), end = try #require(json.range(of: "},", range: start.upperBound..<json.endIndex))
        json.replaceSubrange(start.lowerBound..<end.upperBound, with: "\"mailbox\": { \(mailbox) },")
        Self.expectRefused(json, message)
    }

    /// The board file is refused with an error whose text contains `message`.
    static func expectRefused(_ json: String, _ message: String) {
        let error = #expect(throws: PlatformError.self) { try PlatformDescription(json: Array(json.utf8)) }
        #expect(error.map { "\($0)" }?.contains(message) == true, "\(error.map { "\($0)" } ?? "no error")")
    }

    /// Board files with a broken watchdog are refused with a specific error.
    @Test(arguments: [
        ("\"deviceAddress\": \"0x5a002001\", \"timeoutInstructions\": 2000000", "4-byte aligned"),
        ("\"deviceAddress\": \"0x5a002000\", \"timeoutInstructions\": 10", "timeoutInstructions must be"),
        ("\"deviceAddress\": \"0x10000100\", \"timeoutInstructions\": 2000000", "overlaps region MCUSRAM"),
        ("\"deviceAddress\": \"0x5a002000\"", "timeoutInstructions"),
        ("\"deviceAddress\": \"0x5a002000\", \"timeoutInstructions\": 2000000, \"key\": 1", "key"),
    ])
    func brokenWatchdogsAreRefused(_ watchdog: String, _ message: String) throws {
        var json = try #require(PlatformDescription.builtInSource("stm32mp15"))
        json = json.replacingOccurrences(of: "\"core\": \"cortex-m4\",", with: "\"core\": \"cortex-m4\", \"watchdog\": { \(watchdog) },")
        Self.expectRefused(json, message)
    }

    /// START refused by the core (the running firewall leaves the vector table unmapped for
    /// the coprocessor, so it cannot reset): the anti-rollback counter does not move.
    @Test func theCounterMovesOnlyAfterAStartThatRan() throws {
        var json = try #require(PlatformDescription.builtInSource("stm32mp15"))
        // RETRAM (code and vector table) closed to the coprocessor while running.
        let retram = try #require(json.range(of: "\"coprocessor\": \"rwx\""))
        json.replaceSubrange(retram, with: "\"coprocessor\": \"\"")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-rollback-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        func image(_ counter: UInt32) throws -> [UInt8] { try RprocHarness.m4Image(counter: counter) }
        let h = try RprocHarness(description: try PlatformDescription(json: Array(json.utf8)), state: state)
        let driver = h.driver()
        let error = #expect(throws: RemoteProcError.self) { try driver.boot(firmware: try image(5)) }
        #expect(error?.step == "START_FW")
        #expect(h.platform.isWiped(0))
        h.context.finalize()
        // The same trusted storage on a board where the firmware runs: counter 4 still loads.
        let good = try RprocHarness(state: state)
        defer { good.cleanUp() }
        let s = try good.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(4)))) == nil)
        #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
    }
}

/// A debugger that reads 32-bit Arm core files, if this machine has one that runs.
struct Debugger {
    let path: String
    let isGDB: Bool

    static let available: Debugger? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        func find(_ name: String) -> String? { path.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) } }
        if let gdb = find("gdb-multiarch") { return Debugger(path: gdb, isGDB: true) }
        if let lldb = find("lldb"), let (status, _) = try? run(lldb, ["--version"]), status == 0 { return Debugger(path: lldb, isGDB: false) }
        return nil
    }()

    /// r0, …, r15 as the debugger prints them from the core file.
    func registers(core: String) throws -> [Int: UInt32] {
        let names = (0...12).map { "r\($0)" } + ["sp", "lr", "pc"]
        let args = isGDB
            ? ["--batch", "-nx", "-ex", "set architecture arm", "-ex", "core-file \(core)", "-ex", "info registers"]
            : ["--batch", "--no-lldbinit", "-c", core, "-o", "register read"]
        let (_, out) = try Self.run(path, args)
        var found: [Int: UInt32] = [:]
        for line in out.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" || $0 == "\t" }).map(String.init)
            guard words.count >= 2, let i = names.firstIndex(of: words[0]), words[1].hasPrefix("0x"), let v = UInt32(words[1].dropFirst(2), radix: 16) else { continue }
            found[i] = v
        }
        return found
    }

    static func run(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
        let (status, output) = try runMerged(URL(fileURLWithPath: path), arguments)
        return (status, output)
    }
}
