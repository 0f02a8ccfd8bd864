import CTEEPlatform
import Foundation
import HelloWorldTAInterface
import IsolationTestTA
import TEEClient
import TEETransport
import TEEWire
import Testing
import TestSupport

/// A client that speaks the daemon protocol by hand and breaks it on purpose: every hostile
/// control message, region descriptor and frame gets its specific refusal (or the connection
/// is dropped), the daemon never crashes, and a well-behaved client is served afterwards.
@Suite(.serialized) struct HostileClientTests {
    /// A raw connection to the daemon.
    final class Raw {
        let fd: Int32
        var seq: UInt32 = 0

        init(_ path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(path.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let ok = withUnsafePointer(to: &address) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            guard ok == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        deinit { close(fd) }

        func send(_ bytes: [UInt8], fd passed: Int32 = -1) -> Bool { cteep_send(fd, bytes, bytes.count, passed) == 0 }

        /// The reply, or nil when the daemon dropped the connection.
        func reply() -> ControlMessage.Reply? {
            var buffer = [UInt8](repeating: 0, count: 64)
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { cteep_recv(fd, $0.baseAddress, $0.count, &received) }
            guard n > 0 else { return nil }
            return try? ControlMessage.Reply(decoding: Array(buffer[0..<n]))
        }

        func request(_ kind: ControlMessage.Kind, arg: UInt32 = 0, size: UInt64 = 0, fd passed: Int32 = -1) -> ControlMessage.Reply? {
            seq += 1
            guard send(ControlMessage(kind: kind, seq: seq, arg: arg, size: size).encoded, fd: passed) else { return nil }
            return reply()
        }
    }

    static func memfd(size: Int, sealed: Bool) -> Int32 {
        let fd = cteep_memfd_create("hostile")
        ftruncate(fd, off_t(size))
        if sealed { _ = cteep_memfd_seal(fd) }
        return fd
    }

    @Test func controlMessagesAndDescriptors() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let hello = ControlMessage(kind: .hello, seq: 1).encoded
        // Messages that break the protocol: the connection is dropped.
        var badMagic = hello
        badMagic[0] ^= 0xFF
        var badVersion = hello
        badVersion[4] = 9
        var badKind = hello
        badKind[6] = 77
        for (name, bytes) in [("bad magic", badMagic), ("bad version", badVersion), ("unknown kind", badKind),
                              ("short message", Array(hello.prefix(10))), ("long message", hello + [0, 0, 0, 0])] {
            let raw = try Raw(d.socket)
            #expect(raw.send(bytes))
            #expect(raw.reply() == nil, "\(name): the connection is dropped")
        }
        // Region descriptors: each refused with its result, the connection kept.
        let raw = try Raw(d.socket)
        #expect(raw.request(.hello)?.result == .success)
        #expect(raw.request(.addRegion, arg: 1, size: 4096)?.result == .badParameters, "no descriptor")
        #expect(raw.request(.addRegion, arg: 1, size: 4096, fd: Self.memfd(size: 4096, sealed: false))?.result == .badParameters, "not sealed: could shrink under the mapping")
        // Red-team H1: sealed against shrinking only, the client could add F_SEAL_FUTURE_WRITE
        // after registering, and a TA host's writable window would fail to map.
        // (F_ADD_SEALS 1033; F_SEAL_SEAL 1, SHRINK 2, FUTURE_WRITE 16: Swift does not import them.)
        let shrinkOnly = Self.memfd(size: 4096, sealed: false)
        #expect(fcntl(shrinkOnly, 1033, 2) == 0)
        #expect(raw.request(.addRegion, arg: 3, size: 4096, fd: shrinkOnly)?.result == .badParameters, "SHRINK only: further seals still possible")
        let writeSealed = Self.memfd(size: 4096, sealed: false)
        #expect(fcntl(writeSealed, 1033, 2 | 16 | 1) == 0)
        #expect(raw.request(.addRegion, arg: 3, size: 4096, fd: writeSealed)?.result == .badParameters, "write-sealed")
        #expect(raw.request(.addRegion, arg: 1, size: 8192, fd: Self.memfd(size: 4096, sealed: true))?.result == .badParameters, "smaller than announced")
        #expect(raw.request(.addRegion, arg: 8, size: 4096, fd: Self.memfd(size: 4096, sealed: true))?.result == .badParameters, "unknown flags")
        #expect(raw.request(.addRegion, arg: 1, size: 1 << 40, fd: Self.memfd(size: 4096, sealed: true))?.result == .outOfMemory, "over the byte limit")
        let pipeFDs = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
        defer { pipeFDs.deallocate() }
        pipe(pipeFDs)
        close(pipeFDs[1])
        #expect(raw.request(.addRegion, arg: 1, size: 16, fd: pipeFDs[0])?.result == .badParameters, "a pipe, not a memfd")
        #expect(raw.request(.removeRegion, arg: 12345)?.result == .itemNotFound, "a region this client does not have")
        #expect(raw.request(.openChannel, size: 100, fd: Self.memfd(size: 100, sealed: true))?.result == .outOfMemory, "a channel of the wrong size")
        #expect(raw.request(.closeChannel, arg: 999)?.result == .itemNotFound)
        let good = raw.request(.addRegion, arg: 3, size: 4096, fd: Self.memfd(size: 4096, sealed: true))
        #expect(good?.result == .success)
        #expect(raw.request(.removeRegion, arg: good!.value)?.result == .success)
        #expect(d.process.isRunning)
        try expectServing(d)
    }

    /// Frames through a channel: a length past the channel, a truncated frame, garbage, a memref
    /// naming another client's region or running past its end — each refused, nothing leaks.
    @Test func framesAndMemoryReferences() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        // A victim with a region the attacker will try to name.
        let victim = try TEEContext.connect(socket: d.socket)
        defer { victim.finalize() }
        let secret = try victim.allocateSharedMemory(size: 64, flags: [.input, .output])
        try secret.write(Array(repeating: 0x77, count: 64))

        let raw = try Raw(d.socket)
        #expect(raw.request(.hello)?.result == .success)
        let channel = try MappedRegion.create(count: ChannelLayout.size, name: "hostile-channel")
        #expect(raw.request(.openChannel, size: UInt64(ChannelLayout.size), fd: channel.fd)?.result == .success)
        var seq: UInt32 = 0
        func exchange(_ frame: [UInt8], length: UInt32? = nil) -> WireMessage? {
            seq += 1
            channel.store(frame, at: ChannelLayout.requestOffset)
            channel.store(le32(length ?? UInt32(frame.count)), at: 8)
            channel.store(le32(seq), at: 0)
            cteep_wake(UnsafeMutablePointer(mutating: channelWord(channel, 0)))
            let deadline = Date().addingTimeInterval(5)
            while readWord(channel, 4) != seq && Date() < deadline { usleep(1000) }
            let n = Int(readWord(channel, 12))
            return try? WireCodec.decode(channel.copyBytes(offset: ChannelLayout.responseOffset, count: min(n, ChannelLayout.frameCapacity)))
        }
        func result(_ m: WireMessage?) -> TEEResult? { if case .response(_, _, let r)? = m { r.result } else { nil } }
        let open = WireCodec.encode(.request(id: 1, .openSession(uuid: HelloWorldTA.uuid, login: .public, connectionData: 0, cancelID: 0, params: .none)))
        #expect(result(exchange(open, length: UInt32(ChannelLayout.frameCapacity + 1))) == .communication, "length past the channel")
        #expect(result(exchange(Array(open.prefix(open.count - 3)))) == .communication, "truncated frame")
        #expect(result(exchange([UInt8](repeating: 0xEE, count: 200))) == .communication, "garbage")
        guard case .response(_, _, let opened)? = exchange(open), opened.result == .success else {
            Issue.record("open session failed")
            return
        }
        // SHA-256 of memory the attacker names: the victim's region id (ids start at 1 per
        // connection, so try the first few), an offset past the end, a size past the end.
        for id in UInt32(1)...UInt32(4) {
            let params = try WireParameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(memory: id, offset: 0, size: 64), .memref(memory: 0, offset: 0, size: 32), .none, .none])
            let frame = WireCodec.encode(.request(id: 10 + id, .invoke(session: opened.session, command: HelloWorldTA.Command.sha256.rawValue, cancelID: 0, params: params)))
            #expect(result(exchange(frame)) == .badParameters, "region \(id) belongs to another client")
        }
        let own = raw.request(.addRegion, arg: 3, size: 64, fd: Self.memfd(size: 64, sealed: true))!
        // Inside any shared memory's bounds but past this region: the secure world's check
        // (BAD_PARAMETERS); past every possible region, or wrapping: the frame decoder refuses
        // the frame itself (COMMUNICATION).
        for (offset, size, expected) in [(UInt64(65), UInt64(0), TEEResult.badParameters), (0, 65, .badParameters), (60, 8, .badParameters),
                                         (UInt64.max, 2, .communication), (8, UInt64.max, .communication)] {
            let params = try WireParameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(memory: own.value, offset: offset, size: size), .memref(memory: 0, offset: 0, size: 32), .none, .none])
            let frame = WireCodec.encode(.request(id: 20, .invoke(session: opened.session, command: HelloWorldTA.Command.sha256.rawValue, cancelID: 0, params: params)))
            #expect(result(exchange(frame)) == expected, "[\(offset), +\(size)) outside the 64-byte region")
        }
        #expect(secret.bytes == [UInt8](repeating: 0x77, count: 64), "the victim's memory is untouched")
        try expectServing(d)
    }

    /// The doorbell words: a daemon thread that sleeps on a channel says so (word 16), and the
    /// client's publish then wakes it; a client that forges the word only delays its own call
    /// (the daemon looks again at the end of its 50 ms futex slice).
    @Test func channelDoorbellSaysWhoSleeps() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let raw = try Raw(d.socket)
        #expect(raw.request(.hello)?.result == .success)
        let channel = try MappedRegion.create(count: ChannelLayout.size, name: "doorbell-channel")
        #expect(raw.request(.openChannel, size: UInt64(ChannelLayout.size), fd: channel.fd)?.result == .success)
        let daemonSleeping = 16
        func waitForWord(_ at: Int, _ value: UInt32) -> Bool {
            let deadline = Date().addingTimeInterval(5)
            while readWord(channel, at) != value && Date() < deadline { usleep(1000) }
            return readWord(channel, at) == value
        }
        var seq: UInt32 = 0
        func call(forgeFlag: Bool) -> TEEResult? {
            #expect(waitForWord(daemonSleeping, 1), "the idle daemon thread said it sleeps")
            if forgeFlag { channel.store(le32(0), at: daemonSleeping) }
            seq += 1
            let frame = WireCodec.encode(.request(id: seq, .openSession(uuid: HelloWorldTA.uuid, login: .public, connectionData: 0, cancelID: 0, params: .none)))
            channel.store(frame, at: ChannelLayout.requestOffset)
            channel.store(le32(UInt32(frame.count)), at: 8)
            cteep_publish(UnsafeMutablePointer(mutating: channelWord(channel, 0)), seq, channelWord(channel, daemonSleeping))
            guard waitForWord(4, seq) else { return nil }
            let n = Int(readWord(channel, 12))
            guard case .response(_, _, let r)? = try? WireCodec.decode(channel.copyBytes(offset: ChannelLayout.responseOffset, count: min(n, ChannelLayout.frameCapacity))) else { return nil }
            return r.result
        }
        #expect(call(forgeFlag: false) == .success, "woken through the doorbell")
        #expect(waitForWord(daemonSleeping, 1) && readWord(channel, daemonSleeping) == 1)
        #expect(call(forgeFlag: true) == .success, "a forged flag only delays the forger's call")
        try expectServing(d)
    }

    /// Red-team H2: a call sent with cancel ID 0 (which its client can never cancel) into a
    /// TA that waits forever ends when its client dies, and other clients of that single-
    /// instance TA go on; a daemon told SIGTERM while such a call runs exits within 2 s.
    @Test func anUncancellableCallEndsWithItsClientAndShutdownIsBounded() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        /// A raw client that opens hello world and leaves `wait` (forever, cancel ID 0) running.
        func hog() throws -> (Raw, MappedRegion) {
            let raw = try Raw(d.socket)
            #expect(raw.request(.hello)?.result == .success)
            let channel = try MappedRegion.create(count: ChannelLayout.size, name: "hog-channel")
            #expect(raw.request(.openChannel, size: UInt64(ChannelLayout.size), fd: channel.fd)?.result == .success)
            func post(_ frame: [UInt8], _ seq: UInt32) {
                channel.store(frame, at: ChannelLayout.requestOffset)
                channel.store(le32(UInt32(frame.count)), at: 8)
                channel.store(le32(seq), at: 0)
                cteep_wake(UnsafeMutablePointer(mutating: channelWord(channel, 0)))
            }
            post(WireCodec.encode(.request(id: 1, .openSession(uuid: HelloWorldTA.uuid, login: .public, connectionData: 0, cancelID: 0, params: .none))), 1)
            let deadline = Date().addingTimeInterval(5)
            while readWord(channel, 4) != 1 && Date() < deadline { usleep(1000) }
            guard case .response(_, _, let opened)? = try? WireCodec.decode(channel.copyBytes(offset: ChannelLayout.responseOffset, count: Int(readWord(channel, 12)))) else {
                throw POSIXError(.EIO)
            }
            let params = try WireParameters(types: ParamTypes(.valueInput), params: [.value(a: 0xFFFF_FFFF, b: 0), .none, .none, .none])
            post(WireCodec.encode(.request(id: 2, .invoke(session: opened.session, command: HelloWorldTA.Command.wait.rawValue, cancelID: 0, params: params))), 2)
            return (raw, channel)
        }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        do {
            let (raw, channel) = try hog()
            usleep(200_000)
            _ = (raw, channel)   // the client dies here: its connection closes
        }
        let hello = try context.openSession(HelloWorldTA.uuid)
        let started = Date()
        let call = BackgroundCall { () throws(TEEClientError) in try hello.invoke(HelloWorldTA.Command.incrementValue.rawValue, TEEOperation(.valueInout(1))) }
        #expect(call.result(within: 5) == .success, "the dead client's call still holds the TA")
        #expect(Date().timeIntervalSince(started) < 3)
        // Shutdown with such a call running (its client alive): exits within 2 s.
        let (raw, channel) = try hog()
        usleep(200_000)
        let stopping = Date()
        d.process.terminate()
        let exited = d.eventually(4) { !d.process.isRunning }
        #expect(exited && Date().timeIntervalSince(stopping) < Self.shutdownLimit, "SIGTERM took \(Date().timeIntervalSince(stopping)) s")
        _ = (raw, channel)
    }

    /// How long a SIGTERM may take to end the daemon as a test sees it: the 2 s the daemon
    /// promises, plus its exit and the test's polling (a sanitizer's runtime makes both slower).
    static let shutdownLimit = ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil ? 2.6 : 4.0

    /// SIGTERM while a TA spins with cancellation masked (it neither answers nor dies): the
    /// daemon still exits within 2 s — the isolated TA is abandoned (killed), and a TA in the
    /// daemon's own process (--no-isolation) is left behind by the watchdog's exit.
    @Test(arguments: [false, true])
    func shutdownEndsWhateverTheTAsDo(isolated: Bool) throws {
        let d = try DaemonProcess(extra: ["--test-tas"] + (isolated ? [] : ["--no-isolation"]))
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(CrashTest.uuid)
        let call = BackgroundCall { () throws(TEEClientError) in try s.invoke(CrashTest.Command.spin.rawValue, TEEOperation()) }
        usleep(300_000)
        #expect(call.result(within: 0) == nil, "the TA spins")
        let stopping = Date()
        d.process.terminate()
        #expect(d.eventually(4) { !d.process.isRunning }, "the daemon exited")
        let took = Date().timeIntervalSince(stopping)
        #expect(took < Self.shutdownLimit, "SIGTERM took \(took) s")
        #expect(call.result(within: 5) != nil, "the client's call ended (the daemon is gone)")
    }

    func expectServing(_ d: DaemonProcess) throws {
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let s = try context.openSession(HelloWorldTA.uuid)
        let op = TEEOperation(.valueInout(1))
        try s.invoke(HelloWorldTA.Command.incrementValue.rawValue, op)
        #expect(op.value(0)?.a == 2, "the daemon still serves")
    }
}

func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
func readWord(_ r: MappedRegion, _ at: Int) -> UInt32 {
    let b = r.copyBytes(offset: at, count: 4)
    return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
}
func channelWord(_ r: MappedRegion, _ at: Int) -> UnsafePointer<UInt32> { UnsafePointer(r.wordPointer(at: at)) }
