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
    public struct Limits: Sendable {
        public var connections = 256
        public var channelsPerConnection = DaemonClientTransport.maxChannels
        public var regionsPerConnection = 4096
        public var bytesPerConnection: UInt64 = 4 << 30
        /// Regions of all connections together: the daemon keeps a descriptor for each (to hand
        /// to TA hosts), so this stays below its open-file limit — past it a client is told
        /// OUT_OF_MEMORY instead of its connection failing on a descriptor the kernel refused.
        public var regionsInAll = 16384
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
    private let state = Locked<(connections: [ObjectIdentifier: ServerConnection], stopping: Bool)>(([:], false))
    /// Regions mapped for all connections together (bounded by `limits.regionsInAll`).
    let regionsInAll = Locked(0)
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
            let peer = classify(PeerCredentials(uid: uid, gid: gid, pid: pid, groups: PeerCredentials.groups(ofProcess: pid)))
            let connection = ServerConnection(fd: fd, peer: peer, server: self)
            let admitted = state.withLock { s -> Bool in
                guard !s.stopping, s.connections.count < limits.connections else { return false }
                s.connections[ObjectIdentifier(connection)] = connection
                return true
            }
            guard admitted else {
                report(.refused(peer, "too many connections (limit \(limits.connections)) or shutting down"))
                close(fd)
                continue
            }
            report(.connected(peer))
            finished.enter()
            Thread.detachNewThread { [self] in
                connection.run()
                state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
                finished.leave()
            }
        }
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

    /// Regions of every connection of the server together (one counter the server shares).
    let regionsInAll: Locked<Int>

    public init(peer: PeerCredentials, endpoint: any SecureEndpoint, limits: TransportServer.Limits = TransportServer.Limits(),
                regionsInAll: Locked<Int> = Locked(0), report: @escaping @Sendable (TransportServer.Event) -> Void = { _ in }) {
        memory = MemoryTable(peer: peer)
        self.endpoint = endpoint
        self.limits = limits
        self.regionsInAll = regionsInAll
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
            let underGlobal = regionsInAll.withLock { n -> Bool in
                guard n < limits.regionsInAll else { return false }
                n += 1
                return true
            }
            guard underGlobal else {
                lock.withLock { $0.bytes -= m.size }
                close(received)
                report(.refused(peer, "shared memory refused: \(limits.regionsInAll) regions are mapped for all clients together (the daemon's limit)"))
                return reply(.outOfMemory)
            }
            do {
                let region = try MappedRegion.adopt(fd: received, count: m.size)
                return reply(.success, memory.add(region, flags: m.arg))
            } catch {
                lock.withLock { $0.bytes -= m.size }
                regionsInAll.withLock { $0 -= 1 }
                report(.refused(peer, "region refused: \(error.reason)"))
                return reply(.badParameters)
            }
        case .removeRegion:
            if received >= 0 { close(received) }
            guard let entry = memory.remove(m.arg) else { return reply(.itemNotFound) }
            lock.withLock { $0.bytes -= UInt64(entry.region.count) }
            regionsInAll.withLock { $0 -= 1 }
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
            let endpoint = endpoint, memory = memory
            channelThreads.enter()
            Thread.detachNewThread { [channelThreads] in
                ServingThread.run {
                    channel.serve({ endpoint.handle($0, memory: memory, into: &$1) }, refused: {
                        WireCodec.encode(.response(id: 0, kind: 0, WireResponse(result: .communication, origin: .comms)))
                    })
                }
                channelThreads.leave()
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
        channelThreads.wait()
        endpoint.disconnect(memory: memory)
        let regions = memory.count
        memory.removeAll()
        regionsInAll.withLock { $0 -= regions }
    }
}

/// One client connection: the socket's control loop around a `ConnectionHandler`.
final class ServerConnection: @unchecked Sendable {
    let fd: Int32
    let handler: ConnectionHandler
    unowned let server: TransportServer

    init(fd: Int32, peer: PeerCredentials, server: TransportServer) {
        self.fd = fd
        self.handler = ConnectionHandler(peer: peer, endpoint: server.endpoint, limits: server.limits, regionsInAll: server.regionsInAll, report: server.report)
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
        while true {
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { cteep_recv(fd, $0.baseAddress, $0.count, &received) }
            guard n > 0 else { return }   // orderly close, error, or a truncated message: the client is gone or broke the protocol
            guard let reply = handler.control(Array(buffer[0..<n]), descriptor: received) else { return }
            guard cteep_send(fd, reply, reply.count, -1) == 0 else { return }
        }
    }
}
