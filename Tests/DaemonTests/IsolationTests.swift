import FirmwareImage
import Foundation
import HelloWorldTAInterface
import IsolationTestTA
import RemoteProc
import RemoteProcTAInterface
import TEEClient
import TEETransport
import Testing
import TestSupport

/// TA isolation (issue: every TA instance in its own process): the real daemon with the
/// crash-test TAs, TAs dying in each way in each entry point, and what every client sees.
@Suite(.serialized) struct IsolationTests {
    static let targetDead = TEEClientError(.targetDead, origin: .tee)

    /// How a death shows in the secure log.
    static func trace(_ death: CrashTest.Death) -> String {
        switch death {
        case .panic: "0xC0DE"
        case .trap: "(SIGILL)"           // Swift's fatalError is ud2 on x86-64
        case .stackOverflow: "(SIGSEGV)"
        case .kill: "(SIGKILL)"
        case .none: ""
        }
    }

    /// The death table: each kind of death in each entry point → TARGET_DEAD with origin TEE for
    /// that call and every later call on the session, CloseSession succeeds, the secure log
    /// names the TA, its UUID and the panic code or signal, and the next session works.
    @Test func everyDeathInEveryPhaseIsTargetDeadFromTheTEE() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let kinds: [CrashTest.Death] = [.panic, .trap, .stackOverflow, .kill]
        var rows: [String] = []
        for phase in ["create", "open", "invoke", "idle kill from outside", "mid-invoke kill from outside"] {
            for kind in kinds where !phase.contains("outside") || kind == .kill {
                let logBefore = d.log.count
                var first: TEEClientError?
                var later: TEEClientError?
                switch phase {
                case "create":
                    let s = try context.openSession(CrashTest.uuid)
                    try s.invoke(CrashTest.Command.dieAtNextCreate.rawValue, TEEOperation(.valueInput(kind.rawValue)))
                    s.close()
                    first = clientError { _ = try context.openSession(CrashTest.uuid) }
                case "open":
                    first = clientError { _ = try context.openSession(CrashTest.uuid, operation: TEEOperation(.valueInput(kind.rawValue))) }
                case "invoke":
                    let s = try context.openSession(CrashTest.uuid)
                    first = clientError { try s.invoke(CrashTest.Command.die.rawValue, TEEOperation(.valueInput(kind.rawValue, 0xC0DE_0003))) }
                    later = clientError { try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput)) }
                    s.close()
                case "idle kill from outside":
                    let s = try context.openSession(CrashTest.uuid)
                    let pid = try Self.pid(of: s)
                    kill(pid, SIGKILL)
                    #expect(d.eventually { d.log.dropFirst(logBefore).contains("(SIGKILL)") })
                    first = clientError { try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput)) }
                    later = clientError { try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput)) }
                    s.close()
                default:   // mid-invoke
                    let s = try context.openSession(CrashTest.uuid)
                    let pid = try Self.pid(of: s)
                    let killer = Thread { usleep(100_000); kill(pid, SIGKILL) }
                    killer.start()
                    let started = Date()
                    first = clientError { try s.invoke(CrashTest.Command.sleep.rawValue, TEEOperation(.valueInput(5_000))) }
                    #expect(Date().timeIntervalSince(started) < 2, "the death ends the call at once")
                    later = clientError { try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput)) }
                    s.close()
                }
                let row = "\(phase) × \(kind)"
                rows.append("\(row): \(first.map(String.init(describing:)) ?? "success")")
                #expect(first == Self.targetDead, "\(row)")
                if phase == "invoke" || phase.contains("outside") { #expect(later == Self.targetDead, "\(row): a later call") }
                #expect(d.eventually {
                    let log = d.log.dropFirst(logBefore)
                    return log.contains("crash test TA (isolation) (\(CrashTest.uuid))") && log.contains(Self.trace(kind))
                }, "\(row): the secure log says \(d.log.dropFirst(logBefore))")
                // The TA serves the next session (a fresh instance in a fresh process).
                let next = try context.openSession(CrashTest.uuid)
                let op = TEEOperation(.valueOutput)
                try next.invoke(CrashTest.Command.ping.rawValue, op)
                #expect(op.value(0)?.a == 1, "\(row): a fresh instance")
                next.close()
            }
        }
        print("death table:\n  " + rows.joined(separator: "\n  "))
        // Every host that died was reaped: the daemon's children are its live hosts, none a zombie.
        #expect(d.eventually { d.children.allSatisfy { !Self.isZombie($0) } })
        #expect(d.eventually { d.children.count == 2 }, "only the pool of ready hosts is left: \(d.children)")
    }

    /// Open-TEE's manager crashes on exactly this: a keep-alive TA killed while idle. Here the
    /// session answers TARGET_DEAD, closes, and the next OpenSession starts the TA afresh (its
    /// state from its create entry point, in a new process).
    @Test func aKeepAliveTAKilledWhileIdleRestartsWithFreshState() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(CrashTest.keepAliveUUID)
        for expected in UInt32(1)...3 {
            let op = TEEOperation(.valueOutput)
            try s.invoke(CrashTest.Command.ping.rawValue, op)
            #expect(op.value(0)?.a == expected)
        }
        let pid = try Self.pid(of: s)   // the 4th call
        // `ps` tells the TA hosts apart by name (PR_SET_NAME, 15 bytes).
        #expect((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "ta:keep-alive c\n")
        kill(pid, SIGKILL)
        #expect(d.eventually { d.log.contains("(SIGKILL)") })
        #expect(clientError { try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput)) } == Self.targetDead)
        s.close()
        let again = try context.openSession(CrashTest.keepAliveUUID)
        let op = TEEOperation(.valueOutput)
        try again.invoke(CrashTest.Command.ping.rawValue, op)
        #expect(op.value(0)?.a == 1, "fresh state")
        #expect(op.value(0)?.b != UInt32(pid), "a new process")
        // Keep-alive: the instance outlives its sessions, and a second session shares it.
        again.close()
        let third = try context.openSession(CrashTest.keepAliveUUID)
        try third.invoke(CrashTest.Command.ping.rawValue, op)
        #expect(op.value(0)?.a == 2)
        third.close()
    }

    /// A TA dying touches nobody else: a client mid-call on another TA finishes its call, and
    /// the other TA's state is intact.
    @Test func aDeathLeavesOtherClientsAndTAsAlone() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let healthy = try TEEContext.connect(socket: d.socket)
        defer { healthy.finalize() }
        let other = try healthy.openSession(CrashTest.keepAliveUUID)
        let result = Locked<TEEClientError?>(TEEClientError(.generic, origin: .api))
        let busy = Thread {
            let e = clientError { try other.invoke(CrashTest.Command.sleep.rawValue, TEEOperation(.valueInput(600))) }
            result.withLock { $0 = e }
        }
        busy.start()
        usleep(100_000)
        let crashing = try TEEContext.connect(socket: d.socket)
        defer { crashing.finalize() }
        let s = try crashing.openSession(CrashTest.uuid)
        #expect(clientError { try s.invoke(CrashTest.Command.die.rawValue, TEEOperation(.valueInput(CrashTest.Death.panic.rawValue, 7))) } == Self.targetDead)
        #expect(d.eventually(3) { result.withLock { $0 } == nil }, "the other client's call completed: \(String(describing: result.withLock { $0 }))")
        let op = TEEOperation(.valueOutput)
        try other.invoke(CrashTest.Command.ping.rawValue, op)
        #expect(op.value(0)?.a == 2, "the other TA kept its state")
        let hello = try healthy.openSession(HelloWorldTA.uuid)
        let inc = TEEOperation(.valueInout(41))
        try hello.invoke(HelloWorldTA.Command.incrementValue.rawValue, inc)
        #expect(inc.value(0)?.a == 42)
    }

    /// A host process's mappings of call windows and of client memory, read from outside (a
    /// sandboxed TA cannot open /proc; a host is not dumpable, so only root can read this).
    static func windows(of pid: Int32) -> (windows: Int, clientMemory: Int) {
        let lines = procText("/proc/\(pid)/maps").split(separator: "\n")
        return (lines.filter { $0.contains("memfd:rproc-tee-window") }.count, lines.filter { $0.contains("memfd:rproc-tee-shm") }.count)
    }

    /// A TA sees client memory only during a call that names it, and only that memory: two
    /// regions registered, one passed whole as an input — a read-only mapping of that region
    /// in the TA's process during the call, nothing of the other, nothing after it; part of the
    /// other as an inout — a window (a sealed copy of exactly the named bytes), never the
    /// region itself.
    @Test(.enabled(if: geteuid() == 0, "a TA host is not dumpable: only root reads its mappings"))
    func aTAMapsOnlyTheMemoryItsCallNames() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let named = try context.allocateSharedMemory(size: 64 * 1024, flags: [.input])
        let unnamed = try context.allocateSharedMemory(size: 64 * 1024, flags: [.input, .output])
        defer { named.release(); unnamed.release() }
        try named.write([0x42], at: 0)
        try unnamed.write([0x43], at: 4096)
        let s = try context.openSession(CrashTest.uuid)
        let ping = TEEOperation(.valueOutput)
        try s.invoke(CrashTest.Command.ping.rawValue, ping)
        let pid = Int32(bitPattern: ping.value(0)!.b)
        for (op, expected, first) in [(TEEOperation(.whole(named), .valueInout(600)), (windows: 0, clientMemory: 1), UInt32(0x42)),
                                      (TEEOperation(.partial(.memrefPartialInout, unnamed, offset: 4096, size: 100), .valueInout(600)), (windows: 1, clientMemory: 0), UInt32(0x43))] {
            let call = BackgroundCall { () throws(TEEClientError) in try s.invoke(CrashTest.Command.mappings.rawValue, op) }
            #expect(d.eventually(3) { Self.windows(of: pid) == expected }, "during the call: \(Self.windows(of: pid)), expected \(expected)")
            if expected.clientMemory == 1 {
                let maps = procText("/proc/\(pid)/maps").split(separator: "\n").filter { $0.contains("memfd:rproc-tee-shm") }
                #expect(maps.allSatisfy { $0.contains(" r--s ") }, "the client's region is mapped read-only: \(maps)")
            }
            #expect(call.result(within: 5) == .success)
            #expect(op.value(1)?.a == first && op.value(1)?.b == UInt32(bitPattern: pid), "the TA saw the client's bytes")
            #expect(d.eventually(3) { Self.windows(of: pid) == (0, 0) }, "nothing mapped after it: \(Self.windows(of: pid))")
        }
    }

    /// A TA passes client memory on to another isolated TA by reference: the other TA's process
    /// maps the same bytes for the nested call, and nothing stays mapped in either.
    @Test(.enabled(if: geteuid() == 0, "a TA host is not dumpable: only root reads its mappings"))
    func aTAPassesClientMemoryToAnotherTA() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let shm = try context.allocateSharedMemory(size: 8192, flags: [.input])
        defer { shm.release() }
        try shm.write([0x37], at: 0)
        // The keep-alive TA's single instance is the one the relay reaches.
        let other = try context.openSession(CrashTest.keepAliveUUID)
        let ping = TEEOperation(.valueOutput)
        try other.invoke(CrashTest.Command.ping.rawValue, ping)
        let nestedPID = Int32(bitPattern: ping.value(0)!.b)
        let s = try context.openSession(CrashTest.uuid)
        let op = TEEOperation(.whole(shm), .valueInout(600))
        let call = BackgroundCall { () throws(TEEClientError) in try s.invoke(CrashTest.Command.relay.rawValue, op) }
        // The outer TA passes on its whole input region: the nested one maps it read-only too.
        #expect(d.eventually(3) { Self.windows(of: nestedPID) == (0, 1) }, "the nested TA maps the client's bytes: \(Self.windows(of: nestedPID))")
        #expect(call.result(within: 5) == .success)
        #expect(op.value(1)?.a == 0x37, "the nested TA saw the client's bytes: \(String(describing: op.value(1)))")
        #expect(d.eventually(3) { Self.windows(of: nestedPID).windows == 0 && Self.windows(of: nestedPID).clientMemory == 0 })
        #expect(d.log.contains("keep-alive crash test TA (isolation) (\(CrashTest.keepAliveUUID)) runs in TA host pid"))
    }

    /// A dead spare is not a dead TA (issue 23, item 5): with every waiting TA host killed from
    /// outside, the next OpenSessions take fresh hosts instead of failing with TARGET_DEAD.
    @Test func deadSpareHostsAreReplaced() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let spares = d.children
        #expect(spares.count == 2, "two waiting hosts: \(spares)")
        for pid in spares { kill(pid, SIGKILL) }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        for _ in 0..<2 {
            let s = try context.openSession(CrashTest.uuid)
            let ping = TEEOperation(.valueOutput)
            try s.invoke(CrashTest.Command.ping.rawValue, ping)
            #expect(!spares.contains(Int32(bitPattern: ping.value(0)!.b)), "served by a host that was killed")
        }
    }

    /// Red-team H4, the hostile TA: from inside a TA host, every escape the review's proof of
    /// concept made fails — open the device secret, read /proc/<daemon>/fd, read a sibling
    /// host's memory, start a process, open a socket, map a descriptor it was not handed, signal
    /// the daemon, exec — while the daemon and the other TAs carry on. From outside: the host is
    /// not root, has no capabilities, no_new_privs, a seccomp filter, and is not dumpable; the
    /// daemon is not dumpable either.
    @Test func aHostileTAEscapesNothing() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        // A sibling: another TA's host, with a storage object (so the device secret exists).
        let sibling = try context.openSession(CrashTest.keepAliveUUID)
        let object = TEEOperation(.valueInput(0))
        try sibling.invoke(CrashTest.Command.dieAtNextCreate.rawValue, object)
        let ping = TEEOperation(.valueOutput)
        try sibling.invoke(CrashTest.Command.ping.rawValue, ping)
        let siblingPID = ping.value(0)!.b
        let secret = d.directory.appendingPathComponent("state/device-secret").path
        #expect(FileManager.default.fileExists(atPath: secret))
        let s = try context.openSession(CrashTest.uuid)
        let op = TEEOperation(.tempInput(Array(secret.utf8)), .valueInput(siblingPID, UInt32(bitPattern: d.pid)), .valueOutput)
        try s.invoke(CrashTest.Command.escape.rawValue, op)
        let worked = CrashTest.Escape(rawValue: op.value(2)?.a ?? .max)
        #expect(worked.isEmpty, "escapes that worked: \(String(worked.rawValue, radix: 2))")
        if geteuid() == 0 { #expect(op.value(2)?.b != 0, "a TA host of a root daemon is not root") }
        // Seen from outside (root reads the non-dumpable processes' status).
        if geteuid() == 0 {
            let ping2 = TEEOperation(.valueOutput)
            try s.invoke(CrashTest.Command.ping.rawValue, ping2)
            let status = (try? String(contentsOfFile: "/proc/\(ping2.value(0)!.b)/status", encoding: .utf8)) ?? ""
            #expect(status.contains("NoNewPrivs:\t1"), "no_new_privs")
            #expect(status.contains("Seccomp:\t2"), "a seccomp filter")
            #expect(status.contains("CapEff:\t0000000000000000") && status.contains("CapPrm:\t0000000000000000") && status.contains("CapBnd:\t0000000000000000"), "no capabilities")
            #expect(!status.contains("Uid:\t0\t"), "not root")
        }
        var st = stat()
        // Not dumpable: a process's /proc files (not its folder) then belong to root, whoever
        // runs it.
        #expect(stat("/proc/\(ping.value(0)!.b)/fd", &st) == 0 && st.st_uid == 0, "the TA host is not dumpable")
        // Everything carries on: the hostile TA, its sibling, the daemon.
        try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput))
        let again = TEEOperation(.valueOutput)
        try sibling.invoke(CrashTest.Command.ping.rawValue, again)
        #expect(again.value(0)?.b == siblingPID)
        let hello = try context.openSession(HelloWorldTA.uuid)
        let inc = TEEOperation(.valueInout(1))
        try hello.invoke(HelloWorldTA.Command.incrementValue.rawValue, inc)
        #expect(inc.value(0)?.a == 2)
    }

    /// TA processes are bounded (--max-ta-processes, the pool included): an OpenSession past the
    /// bound is OUT_OF_MEMORY from the TEE (after half a second for a host that is ending) — a TA
    /// cannot fork-bomb the machine by opening sessions — and closing a session frees its place.
    @Test func taProcessesAreBounded() throws {
        let d = try DaemonProcess(extra: ["--test-tas", "--max-ta-processes", "3"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        var sessions = [try context.openSession(CrashTest.uuid), try context.openSession(CrashTest.uuid)]
        #expect(d.eventually { d.children.count == 3 }, "two sessions and one ready host: \(d.children)")
        sessions.append(try context.openSession(CrashTest.uuid))
        #expect(clientError { _ = try context.openSession(CrashTest.uuid) } == TEEClientError(.outOfMemory, origin: .tee))
        sessions.removeLast().close()
        #expect(d.eventually { d.children.count == 3 })
        let again = try context.openSession(CrashTest.uuid)
        again.close()
        for s in sessions { s.close() }
    }

    /// What an isolated TA makes the core keep is bounded: open storage handles stop at 4096 per
    /// instance (OUT_OF_MEMORY), and the instance's death gives every one back.
    @Test func storageHandlesOfATAAreBoundedAndFreedByItsDeath() throws {
        let d = try DaemonProcess(extra: ["--test-tas", "--log-level", "warning"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(CrashTest.uuid)
        let op = TEEOperation(.valueInout(5000))
        try s.invoke(CrashTest.Command.holdObjects.rawValue, op)
        #expect(op.value(0)?.a == 4096 && op.value(0)?.b == TEEResult.outOfMemory.rawValue, "\(String(describing: op.value(0)))")
        #expect(clientError { try s.invoke(CrashTest.Command.die.rawValue, TEEOperation(.valueInput(CrashTest.Death.kill.rawValue))) } == Self.targetDead)
        s.close()
        // An exclusive handle conflicts with any open one: it opens only if the dead instance's
        // 4,096 were given back.
        let next = try context.openSession(CrashTest.uuid)
        let exclusive = TEEOperation(.valueInout(1, 1))
        try next.invoke(CrashTest.Command.holdObjects.rawValue, exclusive)
        #expect(exclusive.value(0)?.a == 1 && exclusive.value(0)?.b == 0, "\(String(describing: exclusive.value(0)))")
        next.close()
    }

    /// The TA's declared data and stack sizes hold on its process: within them it works; past
    /// the data limit its allocation fails and it dies (TARGET_DEAD), as do the unbounded
    /// recursions of the death table.
    @Test func declaredDataAndStackSizesAreEnforced() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(CrashTest.uuid)
        let small = TEEOperation(.valueInout(512 * 1024))
        try s.invoke(CrashTest.Command.allocate.rawValue, small)
        #expect(small.value(0)?.a == UInt32(3 * 512 * 1024), "the sum of the allocated bytes")
        let deep = TEEOperation(.valueInout(32))   // 32 KiB of a 64 KiB stack
        try s.invoke(CrashTest.Command.recurse.rawValue, deep)
        #expect(deep.value(0)?.a == 32)
        // Past the limit: the TA's 1 MiB, the runtime's allowance (16 MiB; sanitizer runs raise
        // it with RPROC_TEE_TA_DATA_ALLOWANCE, which the daemon inherits) and some.
        let allowance = ProcessInfo.processInfo.environment["RPROC_TEE_TA_DATA_ALLOWANCE"].flatMap(UInt32.init) ?? 16
        #expect(clientError { try s.invoke(CrashTest.Command.allocate.rawValue, TEEOperation(.valueInout((allowance + 64) << 20))) } == Self.targetDead)
        s.close()
    }

    /// A TA that neither answers nor dies (a masked busy loop) is abandoned once its client asks
    /// to cancel: the call ends TARGET_DEAD after the grace period, the process is gone.
    @Test func anUnresponsiveTAIsAbandonedOnCancellation() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(CrashTest.uuid)
        let pid = try Self.pid(of: s)
        let op = TEEOperation()
        let canceller = Thread { usleep(200_000); op.requestCancellation() }
        canceller.start()
        let started = Date()
        #expect(clientError { try s.invoke(CrashTest.Command.spin.rawValue, op) } == Self.targetDead)
        let took = Date().timeIntervalSince(started)
        #expect(took > 1.0 && took < 4, "abandoned after the grace period: \(took) s")
        #expect(d.log.contains("abandoned (killed)"))
        #expect(d.eventually { kill(pid, 0) != 0 }, "the TA's process is gone")
    }

    /// The remoteproc TA runs isolated; killed while the firmware runs, its coprocessor is
    /// stopped and wiped by the core (which owns the platform), and a new session boots again.
    @Test func aRemoteprocTAKilledWhileTheFirmwareRunsLeavesItStoppedAndWiped() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let bus = try PlatformBusClient(context: context)
        let driver = try ExampleBoot.driver(context, bus)
        let image = try ExampleBoot.signedM4()
        try driver.boot(firmware: image)
        try bus.tick(0, 2)
        #expect(try driver.readTrace().contains("cm4: tick 1\n"))
        let line = d.log.split(separator: "\n").first { $0.contains("(\(RemoteProcTA.uuid)) runs in TA host pid") }
        let pid = try #require(line.flatMap { Int32($0.split(separator: " ").last ?? "") })
        kill(pid, SIGKILL)
        #expect(d.eventually { d.log.contains("stopped and wiped") })
        #expect(try bus.read(pa: 0x3800_0000, count: 64) == [UInt8](repeating: 0, count: 64), "wiped, and open to the normal world again")
        #expect(throws: (any Error).self) { try driver.shutdown() }
        // A new driver (a new session) boots the same image.
        let again = try ExampleBoot.driver(context, bus)
        try again.boot(firmware: image)
        try bus.tick(0, 1)
        #expect(try again.readTrace().hasPrefix("cm4: firmware up\n"))
        try again.shutdown()
    }

    /// The soak (`make soak` runs 1,000; `make test` a reduced count): TA panics in a row while
    /// four other clients keep invoking a healthy TA. Every panic answers TARGET_DEAD/TEE, no
    /// healthy call fails, and the daemon's descriptors, children and memory come back.
    @Test func soak() throws {
        let count = ProcessInfo.processInfo.environment["RPROC_TEE_SOAK"].flatMap(Int.init) ?? 40
        let d = try DaemonProcess(extra: ["--test-tas", "--log-level", "warning"])
        defer { d.cleanUp() }
        // Warm up, so that the starting figures include what a first use allocates once.
        let warm = try TEEContext.connect(socket: d.socket)
        try warm.openSession(HelloWorldTA.uuid).invoke(HelloWorldTA.Command.incrementValue.rawValue, TEEOperation(.valueInout(1)))
        _ = clientError { try warm.openSession(CrashTest.uuid).invoke(CrashTest.Command.die.rawValue, TEEOperation(.valueInput(1, 1))) }
        warm.finalize()
        // Settled: the pool is full and no host is being started (a start holds two descriptors
        // for a moment): the same figures three times in a row, 200 ms apart.
        var last = (-1, -1), same = 0
        #expect(d.eventually(20) {
            usleep(200_000)
            let now = (d.descriptors, d.children.count)
            same = now == last && now.1 == 2 ? same + 1 : 0
            last = now
            return same >= 2
        })
        let start = (fds: d.descriptors, children: d.children.count, rss: d.residentKiB)
        let stop = Locked(false)
        let healthyCalls = Locked(0), healthyFailures = Locked<[String]>([])
        let workers = (0..<4).map { i in
            Thread {
                do {
                    let c = try TEEContext.connect(socket: d.socket)
                    defer { c.finalize() }
                    let s = try c.openSession(HelloWorldTA.uuid)
                    var n: UInt32 = 0
                    while !stop.withLock({ $0 }) {
                        let op = TEEOperation(.valueInout(n))
                        try s.invoke(HelloWorldTA.Command.incrementValue.rawValue, op)
                        if op.value(0)?.a != n + 1 { healthyFailures.withLock { $0.append("worker \(i): \(n) + 1 gave \(String(describing: op.value(0)))") } }
                        n &+= 1
                        healthyCalls.withLock { $0 += 1 }
                    }
                } catch {
                    healthyFailures.withLock { $0.append("worker \(i): \(error)") }
                }
            }
        }
        for w in workers { w.start() }
        let crashing = try TEEContext.connect(socket: d.socket)
        var wrong: [String] = []
        let began = Date()
        for i in 0..<count {
            let s = try crashing.openSession(CrashTest.uuid)
            let e = clientError { try s.invoke(CrashTest.Command.die.rawValue, TEEOperation(.valueInput(CrashTest.Death.panic.rawValue, UInt32(i)))) }
            if e != Self.targetDead { wrong.append("panic \(i): \(String(describing: e))") }
            s.close()
        }
        let took = Date().timeIntervalSince(began)
        stop.withLock { $0 = true }
        while workers.contains(where: { !$0.isFinished }) { usleep(10_000) }
        crashing.finalize()
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(healthyFailures.withLock { $0 }.isEmpty, "\(healthyFailures.withLock { $0 }.prefix(5))")
        #expect(d.eventually(10) { d.descriptors == start.fds && d.children.count == start.children })
        let end = (fds: d.descriptors, children: d.children.count, rss: d.residentKiB)
        print("""
            soak: \(count) TA panics in \(String(format: "%.1f", took)) s (\(String(format: "%.1f", took * 1000 / Double(count))) ms each), \
            all TARGET_DEAD/TEE: \(wrong.isEmpty); \(healthyCalls.withLock { $0 }) healthy calls from 4 clients, \(healthyFailures.withLock { $0.count }) failed; \
            daemon descriptors \(start.fds) → \(end.fds), children \(start.children) → \(end.children), RSS \(start.rss) → \(end.rss) KiB
            """)
        // Memory: back to the start within allocator slack (1 MiB + 10 %), whatever the count —
        // except under a sanitizer, whose allocator keeps freed memory in quarantine on purpose
        // (`make test-asan` / `test-tsan` set RPROC_TEE_SANITIZER).
        if ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil {
            #expect(end.rss <= start.rss + start.rss / 10 + 1024, "RSS \(start.rss) → \(end.rss) KiB")
        }
    }

    // MARK: Helpers

    /// The TA's process id (its ping answer).
    static func pid(of session: TEESession) throws -> Int32 {
        let op = TEEOperation(.valueOutput)
        try session.invoke(CrashTest.Command.ping.rawValue, op)
        return Int32(op.value(0)!.b)
    }

    static func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }
}
