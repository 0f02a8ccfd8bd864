#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
import Foundation
import TEECore
import TEEWire

/// The daemon's end of the transport: listens on a Unix socket, learns each client's identity
/// from the kernel (SO_PEERCRED), maps the regions and channels the client passes, serves every
/// channel on its own thread through `endpoint`, and cleans up when the client goes (its
/// sessions closed by the endpoint, its mappings and descriptors released).
///
/// Everything from a client is hostile: control messages are fixed-size and checked, region
/// descriptors must be sealed memfds of the announced size, counts and bytes are capped, and a
/// connection that breaks the protocol is dropped.
public final class TransportServer: @unchecked Sendable {
    // @unchecked: mutable state is behind `state`.
    /// What clients may hold. Attacker: any client, and another local user with access to the
    /// socket (red-team M1, M4): every count is bounded in all and per uid, and the normal-world
    /// kernel's uids keep a reserve that no other user can take (the remoteproc TA must not be
    /// starved by an unprivileged client).
    public struct Limits: Sendable {
        public var connections = 256
        /// Connections of one uid (a kernel uid is bounded only by `connections`).
        public var connectionsPerUID = 64
        /// Connections only kernel peers may take (out of `connections`).
        public var kernelConnectionReserve = 16
        public var channelsPerConnection = DaemonClientTransport.maxChannels
        public var regionsPerConnection = 4096
        public var bytesPerConnection: UInt64 = 4 << 30
        /// Regions of all connections together: the daemon keeps a descriptor for each (to hand
        /// to TA hosts), so this stays below its open-file limit — past it a client is told
        /// OUT_OF_MEMORY instead of its connection failing on a descriptor the kernel refused.
        public var regionsInAll = 16384
        /// Regions of one uid's connections together.
        public var regionsPerUID = 4096
        /// Regions only kernel peers may take (out of `regionsInAll`).
        public var kernelRegionReserve = 1024
        /// Threads serving clients (one per connection and one per channel) in all: past it an
        /// OPEN_CHANNEL is OUT_OF_MEMORY (the client queues its call for a channel it has) and a
        /// new connection is refused.
        public var serverThreads = 1024
        /// Seconds a new connection has to say HELLO before it is dropped.
        public var helloTimeout: Double = 5
        public init() {}
    }

    public enum Event: Sendable {
        case connected(PeerCredentials)
        case disconnected(PeerCredentials, sessionsClosed: Bool)
        case refused(PeerCredentials?, String)
    }

    let path: String
    let endpoint: any SecureEndpoint
    let limits: Limits
    let classify: @Sendable (PeerCredentials) -> PeerCredentials
    let report: @Sendable (Event) -> Void
    private var listener: Int32 = -1
    private let state = Locked<(connections: [ObjectIdentifier: ServerConnection], perUID: [UInt32: Int], stopping: Bool)>(([:], [:], false))
    /// What all connections hold together (regions, threads), bounded by `limits`.
    let quotas: ServerQuotas
    private let finished = DispatchGroup()

    /// - Parameters:
    ///   - classify: decides from the OS credentials who the peer is (e.g. which uids play the
    ///     normal-world kernel); the client's own word is never asked.
    public init(path: String, endpoint: any SecureEndpoint, limits: Limits = Limits(),
                classify: @escaping @Sendable (PeerCredentials) -> PeerCredentials = { $0 },
                report: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.path = path
        self.endpoint = endpoint
        self.limits = limits
        self.classify = classify
        self.report = report
        self.quotas = ServerQuotas(limits: limits)
    }

    /// Binds and listens (the caller has made sure no live daemon owns `path`) and starts
    /// accepting on a thread of its own.
    public func start() throws(TransportError) {
        let address = try SocketAddress(path: path)
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError(.unreachable, "socket: \(errnoText())") }
        let previous = umask(0o177)   // the socket is the owner's only (0600)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        umask(previous)
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = errnoText()
            close(fd)
            throw TransportError(.unreachable, "cannot listen on \(path): \(reason)")
        }
        listener = fd
        finished.enter()
        Thread.detachNewThread { [self] in
            acceptLoop(fd)
            finished.leave()
        }
    }

    /// Accepts on `listening` (passed in, not read from `listener`, which `stop` owns) until
    /// `stop` shuts it down.
    private func acceptLoop(_ listening: Int32) {
        while true {
            let fd = accept(listening, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return   // the listener was shut down
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var uid: UInt32 = 0, gid: UInt32 = 0, pid: Int32 = 0
            guard cteep_peer_credentials(fd, &uid, &gid, &pid) == 0 else {
                close(fd)
                continue
            }
            let peer = classify(PeerCredentials(uid: uid, gid: gid, pid: pid, groups: PeerCredentials.groups(ofSocket: fd)))
            let connection = ServerConnection(fd: fd, peer: peer, server: self)
            let refusal = state.withLock { s -> String? in
                if s.stopping { return "shutting down" }
                // Attacker: any peer. The kernel's uids may use every place; others leave the
                // reserve free and hold at most their share.
                let total = peer.kernel ? limits.connections : limits.connections - limits.kernelConnectionReserve
                guard s.connections.count < total else { return "too many connections (\(s.connections.count), limit \(total) for \(peer.kernel ? "the kernel" : "users"))" }
                let mine = s.perUID[peer.uid, default: 0]
                guard peer.kernel || mine < limits.connectionsPerUID else { return "uid \(peer.uid) holds \(mine) connections (its limit)" }
                s.connections[ObjectIdentifier(connection)] = connection
                s.perUID[peer.uid] = mine + 1
                return nil
            }
            if let refusal {
                report(.refused(peer, refusal))
                refuse(fd)
                continue
            }
            let left = { [self] in
                state.withLock { s in
                    s.connections.removeValue(forKey: ObjectIdentifier(connection))
                    s.perUID[peer.uid] = s.perUID[peer.uid, default: 1] - 1
                    if s.perUID[peer.uid] == 0 { s.perUID[peer.uid] = nil }
                }
            }
            // A thread per connection, checked: one that cannot be made drops the connection
            // (the client sees it closed), never a connection nobody serves (red-team M1).
            guard quotas.takeThread() else {
                left()
                report(.refused(peer, "no serving thread left (limit \(limits.serverThreads))"))
                refuse(fd)
                continue
            }
            finished.enter()
            let started = HostResources.startThread(stackSize: 512 << 10) { [self] in
                connection.run()
                left()
                quotas.giveBackThread()
                finished.leave()
            }
            guard started else {
                quotas.giveBackThread()
                finished.leave()
                left()
                report(.refused(peer, "a thread could not be started: connection dropped"))
                close(fd)
                continue
            }
            report(.connected(peer))
        }
    }

    /// Tells a peer that was not admitted why, as the answer to the HELLO it is about to send
    /// (BUSY: a reply waiting in its socket), and closes the connection.
    private func refuse(_ fd: Int32) {
        let busy = ControlMessage.Reply(kind: .hello, seq: 1, result: .busy).encoded
        _ = cteep_send(fd, busy, busy.count, -1)
        close(fd)
    }

    /// Stops accepting, drops every connection (each cleans up: sessions closed, memory
    /// unmapped), waits for them, and removes the socket.
    public func stop() {
        let connections = state.withLock { s -> [ServerConnection] in
            s.stopping = true
            return Array(s.connections.values)
        }
        // Shut down (the accept loop returns), but close only once every thread is gone, so that
        // no accept can run on a descriptor number the process has reused.
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
        for c in connections { c.hangUp() }
        finished.wait()
        if listener >= 0 {
            close(listener)
            listener = -1
        }
        unlink(path)
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }
}

/// One connection's state and its answers to control messages and frames, without the socket:
/// the code the daemon runs for every client, which the fuzz harness drives directly.
/// Attacker: the client behind the connection.
public final class ConnectionHandler: @unchecked Sendable {
    // @unchecked: `lock` guards `channels`, `nextChannel` and `bytes`; the rest is fixed.
    public let memory: MemoryTable
    let endpoint: any SecureEndpoint
    let limits: TransportServer.Limits
    let report: @Sendable (TransportServer.Event) -> Void
    private let lock = Locked<(channels: [UInt32: ServerChannel], nextChannel: UInt32, bytes: UInt64)>(([:], 1, 0))
    private let channelThreads = DispatchGroup()

    /// What every connection of the server holds together (shared with the server).
    let quotas: ServerQuotas

    public init(peer: PeerCredentials, endpoint: any SecureEndpoint, limits: TransportServer.Limits = TransportServer.Limits(),
                quotas: ServerQuotas? = nil, report: @escaping @Sendable (TransportServer.Event) -> Void = { _ in }) {
        memory = MemoryTable(peer: peer)
        self.endpoint = endpoint
        self.limits = limits
        self.quotas = quotas ?? ServerQuotas(limits: limits)
        self.report = report
    }

    public var peer: PeerCredentials { memory.peer }

    /// One control message (with the descriptor that came with it, or -1, consumed in every
    /// path): the encoded reply, or nil when the message breaks the protocol and the connection
    /// must be dropped.
    public func control(_ bytes: [UInt8], descriptor received: Int32) -> [UInt8]? {
        let m: ControlMessage
        do {
            m = try ControlMessage(decoding: bytes)
        } catch {
            if received >= 0 { close(received) }
            report(.refused(peer, "connection dropped: \(error.reason)"))
            return nil
        }
        return handle(m, fd: received).encoded
    }

    /// One TEEWire frame, answered by the secure world.
    public func frame(_ bytes: [UInt8]) -> [UInt8] { endpoint.handle(bytes, memory: memory) }

    private func handle(_ m: ControlMessage, fd received: Int32) -> ControlMessage.Reply {
        func reply(_ result: TEEResult, _ value: UInt32 = 0) -> ControlMessage.Reply {
            ControlMessage.Reply(kind: m.kind, seq: m.seq, result: result, value: value)
        }
        switch m.kind {
        case .hello:
            if received >= 0 { close(received) }
            return reply(.success, UInt32(ChannelLayout.frameCapacity))
        case .addRegion:
            guard received >= 0 else { return reply(.badParameters) }
            guard m.arg & ~3 == 0 else { close(received); return reply(.badParameters) }
            let admitted = lock.withLock { s -> Bool in
                guard memory.count < limits.regionsPerConnection, m.size <= limits.bytesPerConnection - min(s.bytes, limits.bytesPerConnection) else { return false }
                s.bytes += m.size
                return true
            }
            guard admitted else {
                close(received)
                report(.refused(peer, "shared memory of \(m.size) bytes over the connection's limits"))
                return reply(.outOfMemory)
            }
            if let refusal = quotas.takeRegion(for: peer) {
                lock.withLock { $0.bytes -= m.size }
                close(received)
                report(.refused(peer, "shared memory refused: \(refusal)"))
                return reply(.outOfMemory)
            }
            do {
                let region = try MappedRegion.adopt(fd: received, count: m.size)
                return reply(.success, memory.add(region, flags: m.arg))
            } catch {
                lock.withLock { $0.bytes -= m.size }
                quotas.giveBackRegions(1, of: peer)
                report(.refused(peer, "region refused: \(error.reason)"))
                return reply(.badParameters)
            }
        case .removeRegion:
            if received >= 0 { close(received) }
            guard let entry = memory.remove(m.arg) else { return reply(.itemNotFound) }
            lock.withLock { $0.bytes -= UInt64(entry.region.count) }
            quotas.giveBackRegions(1, of: peer)
            return reply(.success)
        case .openChannel:
            guard received >= 0 else { return reply(.badParameters) }
            guard m.size == UInt64(ChannelLayout.size), lock.withLock({ $0.channels.count }) < limits.channelsPerConnection else {
                close(received)
                return reply(.outOfMemory)
            }
            let region: MappedRegion
            do { region = try MappedRegion.adopt(fd: received, count: m.size) } catch {
                report(.refused(peer, "channel refused: \(error.reason)"))
                return reply(.badParameters)
            }
            region.closeDescriptor()   // a channel is never passed on
            let channel = lock.withLock { s -> ServerChannel in
                let c = ServerChannel(id: s.nextChannel, region: region)
                s.channels[c.id] = c
                s.nextChannel &+= 1
                return c
            }
            let endpoint = endpoint, memory = memory, quotas = quotas
            // A thread per channel, within the server's budget and checked: a channel nobody
            // would serve is never answered SUCCESS (red-team M1). OUT_OF_MEMORY tells the
            // client to queue its call for a channel it already has.
            func unmake() {
                lock.withLock { _ = $0.channels.removeValue(forKey: channel.id) }
            }
            guard quotas.takeThread() else {
                unmake()
                report(.refused(peer, "channel refused: no serving thread left (limit \(limits.serverThreads))"))
                return reply(.outOfMemory)
            }
            channelThreads.enter()
            let started = HostResources.startThread(stackSize: 512 << 10) { [channelThreads] in
                ServingThread.run {
                    channel.serve({ endpoint.handle($0, memory: memory, into: &$1) }, refused: {
                        WireCodec.encode(.response(id: 0, kind: 0, WireResponse(result: .communication, origin: .comms)))
                    })
                }
                quotas.giveBackThread()
                channelThreads.leave()
            }
            guard started else {
                quotas.giveBackThread()
                channelThreads.leave()
                unmake()
                report(.refused(peer, "channel refused: a thread could not be started"))
                return reply(.outOfMemory)
            }
            return reply(.success, channel.id)
        case .closeChannel:
            if received >= 0 { close(received) }
            guard let channel = lock.withLock({ $0.channels.removeValue(forKey: m.arg) }) else { return reply(.itemNotFound) }
            channel.stop()
            return reply(.success)
        }
    }

    /// The client is gone: stop its channels and ask its calls to cancel (a call in progress
    /// finishes first), close its sessions, drop its memory.
    public func tearDown() {
        let channels = lock.withLock { s -> [ServerChannel] in
            defer { s.channels = [:] }
            return Array(s.channels.values)
        }
        for c in channels { c.stop() }
        endpoint.cancelAll(memory: memory)
        // Calls in progress end once cancelled (an isolated TA that ignores it is abandoned
        // after 1 s); one that still runs after that is a TA in the daemon's own process that
        // ignores cancellation (--no-isolation): said in the log, then waited for.
        if channelThreads.wait(timeout: .now() + 3) == .timedOut {
            report(.refused(peer, "a call of this client still runs 3 s after it left (a TA that ignores cancellation, not isolated); its sessions close when it ends"))
            channelThreads.wait()
        }
        endpoint.disconnect(memory: memory)
        let regions = memory.count
        memory.removeAll()
        quotas.giveBackRegions(regions, of: peer)
    }
}

/// One client connection: the socket's control loop around a `ConnectionHandler`.
final class ServerConnection: @unchecked Sendable {
    let fd: Int32
    let handler: ConnectionHandler
    unowned let server: TransportServer

    init(fd: Int32, peer: PeerCredentials, server: TransportServer) {
        self.fd = fd
        self.handler = ConnectionHandler(peer: peer, endpoint: server.endpoint, limits: server.limits, quotas: server.quotas, report: server.report)
        self.server = server
    }

    var peer: PeerCredentials { handler.peer }

    /// Ends the connection from the daemon's side (shutdown): the control loop sees EOF.
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    func run() {
        defer {
            handler.tearDown()
            close(fd)
            server.report(.disconnected(peer, sessionsClosed: true))
        }
        var buffer = [UInt8](repeating: 0, count: ControlMessage.requestSize + 1)
        // Attacker: a peer that connects and says nothing, holding a connection (and a thread)
        // for good: it has `helloTimeout` seconds for its HELLO, which must come first.
        var greeted = false
        setReceiveTimeout(server.limits.helloTimeout)
        while true {
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { cteep_recv(fd, $0.baseAddress, $0.count, &received) }
            guard n > 0 else {
                // Orderly close, error, a truncated message, or no HELLO in time: the client is
                // gone or broke the protocol.
                if !greeted { server.report(.refused(peer, "no HELLO within \(server.limits.helloTimeout) s: connection dropped")) }
                return
            }
            if !greeted {
                guard let first = try? ControlMessage(decoding: Array(buffer[0..<n])), first.kind == .hello else {
                    if received >= 0 { close(received) }
                    server.report(.refused(peer, "connection dropped: the first message was not HELLO"))
                    return
                }
                greeted = true
                setReceiveTimeout(0)
            }
            guard let reply = handler.control(Array(buffer[0..<n]), descriptor: received) else { return }
            guard cteep_send(fd, reply, reply.count, -1) == 0 else { return }
        }
    }

    /// SO_RCVTIMEO on the control socket (0: none).
    private func setReceiveTimeout(_ seconds: Double) {
        var t = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// What all connections of a server hold together: regions (in all, per uid, with the kernel's
/// reserve) and serving threads.
public final class ServerQuotas: @unchecked Sendable {
    // @unchecked: everything is behind `state`.
    let limits: TransportServer.Limits
    private let state = Locked<(regions: Int, regionsPerUID: [UInt32: Int], threads: Int)>((0, [:], 0))

    public init(limits: TransportServer.Limits) {
        self.limits = limits
    }

    /// Takes a region for `peer`; nil, or why not.
    func takeRegion(for peer: PeerCredentials) -> String? {
        state.withLock { s -> String? in
            let total = peer.kernel ? limits.regionsInAll : limits.regionsInAll - min(limits.kernelRegionReserve, limits.regionsInAll / 2)
            guard s.regions < total else { return "\(s.regions) regions are mapped for all clients together (the daemon's limit for \(peer.kernel ? "the kernel" : "users"): \(total))" }
            let mine = s.regionsPerUID[peer.uid, default: 0]
            guard peer.kernel || mine < limits.regionsPerUID else { return "uid \(peer.uid) has \(mine) regions mapped (its limit)" }
            s.regions += 1
            s.regionsPerUID[peer.uid] = mine + 1
            return nil
        }
    }

    func giveBackRegions(_ n: Int, of peer: PeerCredentials) {
        guard n > 0 else { return }
        state.withLock { s in
            s.regions -= n
            let left = s.regionsPerUID[peer.uid, default: n] - n
            s.regionsPerUID[peer.uid] = left > 0 ? left : nil
        }
    }

    func takeThread() -> Bool {
        state.withLock { s in
            guard s.threads < limits.serverThreads else { return false }
            s.threads += 1
            return true
        }
    }

    func giveBackThread() { state.withLock { $0.threads -= 1 } }

    /// Regions mapped in all (for tests and the log).
    public var regions: Int { state.withLock { $0.regions } }
}
