import Foundation
import HelloWorldTAInterface
import IsolationTestTA
import TEEClient
import TEETransport
import TestSupport
import Testing

/// Red-team M1 and M4: what one client or one local user may hold is bounded — connections,
/// sessions, TA host processes, shared-memory regions, serving threads — and the normal-world
/// kernel keeps a reserve; a peer that never says HELLO is dropped. "mallory" is uid 65534 on
/// a daemon shared with --socket-mode 666; root (a kernel uid) is the victim whose service must
/// go on. Another user needs root to play: the mallory tests run as root (CI does).
@Suite(.serialized) struct QuotaTests {
    static let mallory: UInt32 = 65534
    static let root = geteuid() == 0

    @Test(.enabled(if: root, "another local user is played by root's setuid"))
    func oneUserCannotTakeEverything() throws {
        let d = try DaemonProcess(extra: ["--test-tas", "--socket-mode", "666", "--max-regions", "2048"])
        defer { d.cleanUp() }
        // Connections: 64 per uid.
        let connections = try ClientProcess("connections", socket: d.socket, ["100"], asUID: Self.mallory)
        let connected = connections.line()
        #expect(connected.hasPrefix("connected 64 ") && connected.contains("BUSY"), "\(connected)")
        connections.killHard()
        #expect(d.eventually { d.log.components(separatedBy: "client gone: uid \(Self.mallory)").count > 64 }, "the 64 connections are gone")
        // Sessions: 1,024 per connection.
        let sessions = try ClientProcess("sessions", socket: d.socket, [HelloWorldTA.uuid.description, "1100"], asUID: Self.mallory)
        let many = sessions.line()
        #expect(many.hasPrefix("opened 1024 ") && many.contains("OUT_OF_MEMORY"), "\(many)")
        // Sessions: 4,096 per uid, whatever its connections.
        var more: [ClientProcess] = []
        for expected in [1024, 1024, 1024, 0] {
            let c = try ClientProcess("sessions", socket: d.socket, [HelloWorldTA.uuid.description, "1024"], asUID: Self.mallory)
            let line = c.line()
            #expect(line.hasPrefix("opened \(expected) "), "\(line)")
            more.append(c)
        }
        for c in more { c.killHard() }
        // TA host processes: 32 per (non-kernel) uid — the hello-world instance that mallory's
        // sessions above made counts as one of them (its first sessions client still holds it).
        let hosts = try ClientProcess("sessions", socket: d.socket, [CrashTest.uuid.description, "40"], asUID: Self.mallory)
        let opened = hosts.line()
        #expect(opened.hasPrefix("opened 31 ") && opened.contains("OUT_OF_MEMORY"), "\(opened)")
        // Regions: users together leave the kernel's 1,024 of the 2,048 free.
        let regions = try ClientProcess("regions", socket: d.socket, ["1100"], asUID: Self.mallory)
        let mapped = regions.line()
        #expect(mapped.hasPrefix("regions 1024 ") && mapped.contains("OUT_OF_MEMORY"), "\(mapped)")
        // Root — the normal-world kernel here — is still served in every way.
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let shm = try context.allocateSharedMemory(size: 4096, flags: [.input])
        defer { shm.release() }
        let s = try context.openSession(CrashTest.uuid)
        try s.invoke(CrashTest.Command.ping.rawValue, TEEOperation(.valueOutput))
        let hello = try context.openSession(HelloWorldTA.uuid)
        let inc = TEEOperation(.valueInout(1))
        try hello.invoke(HelloWorldTA.Command.incrementValue.rawValue, inc)
        #expect(inc.value(0)?.a == 2)
        // The refusals were logged, not once per attempt without end.
        #expect(d.log.contains("holds 64 connections") && d.log.contains("holds 32 TA host processes"), "the refusals are in the log")
        for c in [hosts, sessions, regions] { c.killHard() }
    }

    /// A peer that connects and never says HELLO is dropped after 5 s; one whose first message
    /// is not HELLO at once.
    @Test func aSilentPeerIsDropped() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let silent = try HostileClientTests.Raw(d.socket)
        let started = Date()
        var byte: UInt8 = 0
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(silent.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let n = recv(silent.fd, &byte, 1, 0)
        let waited = Date().timeIntervalSince(started)
        #expect(n == 0 && waited > 4 && waited < 8, "closed after \(waited) s (recv \(n))")
        let rude = try HostileClientTests.Raw(d.socket)
        #expect(rude.request(.removeRegion, arg: 1) == nil, "a first message that is not HELLO drops the connection")
        #expect(d.log.contains("no HELLO within"))
    }

    /// The daemon's serving threads are bounded (--max-threads): a client with more threads
    /// than it may have channels queues its calls on the channels it has, and every call
    /// completes with its own answer (before, a thread that could not be made left a channel
    /// nobody served, and its client hung).
    @Test func threadsAreBoundedAndCallsQueue() throws {
        let d = try DaemonProcess(extra: ["--max-threads", "8"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let session = try context.openSession(HelloWorldTA.uuid)
        let failures = Locked(0)
        let group = DispatchGroup()
        for t in 0..<20 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for i in 0..<50 {
                    let op = TEEOperation(.valueInout(UInt32(t * 1000 + i)))
                    do { try session.invoke(HelloWorldTA.Command.incrementValue.rawValue, op) } catch {
                        failures.withLock { $0 += 1 }
                        continue
                    }
                    if op.value(0)?.a != UInt32(t * 1000 + i + 1) { failures.withLock { $0 += 1 } }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success, "every call returned")
        #expect(failures.withLock { $0 } == 0)
        #expect(d.log.contains("no serving thread left"), "the budget was reached")
    }
}
