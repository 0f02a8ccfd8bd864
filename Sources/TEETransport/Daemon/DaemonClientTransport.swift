#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
import Synchronization
import TEECore

/// The client's end of the daemon transport: one Unix-socket connection for control (regions
/// and channels, passed as memfd descriptors), shared-memory channels for the TEEWire frames
/// (one per concurrent call, made on demand and reused), memfd regions for shared memory.
public final class DaemonClientTransport: ClientTransport, @unchecked Sendable {
    // @unchecked: mutable state is behind `control` and `pool` locks, and the `spare` atomic.
    let socket: Int32
    private let control = Locked<UInt32>(0)
    /// `cap`: how many channels the daemon let this connection have once it refused one (its
    /// thread budget); calls past it wait for a channel, as they do past `maxChannels`.
    private let pool = Locked<(free: [ClientChannel], open: Int, closed: Bool, cap: Int)>(([], 0, false, DaemonClientTransport.maxChannels))
    /// Calls waiting for a channel: a channel given back goes to the pool (and wakes them)
    /// instead of the spare slot while any waits.
    private let waiters = Atomic<Int>(0)
    private let regions = Locked<[UInt32: MappedRegion]>([:])
    /// The channel the last call gave back, when no other call has taken it since: one thread
    /// calling takes and returns its channel with an atomic exchange each, not two trips through
    /// `pool`'s lock per call. Holds a +1 reference while set.
    private let spare = Atomic<Unmanaged<ClientChannel>?>(nil)
    /// `pool.closed`, for the spare channel's path (which does not take the lock).
    private let closedFlag = Atomic<Bool>(false)
    public let socketPath: String
    /// The fork generation this connection was made in (see `cteep_fork_generation`).
    private let generation = cteep_fork_generation()
    /// Whether this process is a child of a fork made after the connection (red-team M5: the
    /// child's call would land in the parent's channel, and the parent read the child's reply).
    var isForked: Bool { cteep_fork_generation() != generation }
    private var forkedError: TransportError {
        TransportError(.forked, "this connection belongs to the process that made it; after fork() a child must make its own context")
    }

    /// Channels a connection opens at most (the daemon's limit too).
    public static let maxChannels = 64

    /// The socket path a client uses when none is given: `$RPROC_TEE_SOCKET`, else
    /// `$XDG_RUNTIME_DIR/rproc-tee.sock`, else for root `/run/rproc-tee/socket` (a folder only
    /// root can make: no other user can take root's default first), else
    /// `/tmp/rproc-tee-<uid>/socket`.
    public static var defaultSocketPath: String {
        if let explicit = getenv("RPROC_TEE_SOCKET").map({ String(cString: $0) }), !explicit.isEmpty { return explicit }
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty { return runtime + "/rproc-tee.sock" }
        var st = stat()
        if getuid() == 0, stat("/run", &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == 0, st.st_mode & 0o022 == 0 {
            return rootDefaultSocketPath
        }
        return "/tmp/rproc-tee-\(getuid())/socket"
    }

    /// Root's default socket (when /run is root's alone).
    public static let rootDefaultSocketPath = "/run/rproc-tee/socket"

    /// Whether `path` is a default socket whose folder the daemon makes (mode 0700) itself.
    public static func isPrivateDefault(_ path: String) -> Bool {
        path == rootDefaultSocketPath || path == "/tmp/rproc-tee-\(getuid())/socket"
    }

    /// Checks that the socket is the real TEE's (`SocketTrust`), connects, checks the daemon's
    /// credentials, and says hello (protocol version, channel size).
    public init(socketPath: String) throws(TransportError) {
        self.socketPath = socketPath
        let address = try SocketAddress(path: socketPath)
        let owners = try SocketTrust.check(socketPath)
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError(.unreachable, "socket: \(errnoText())") }
        let connected = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard connected == 0 else {
            let code = errno
            let reason = errnoText()
            Glibc.close(fd)
            if code == EACCES || code == EPERM {
                throw TransportError(.denied, "permission denied on \(socketPath): the daemon lets only its own user (and root) connect unless it was started with --socket-mode and --socket-group")
            }
            throw TransportError(.unreachable, "no secure-world daemon answers at \(socketPath): \(reason) (start one with `rproc-tee secure-world`)")
        }
        do { try SocketTrust.checkPeer(fd, path: socketPath, owners: owners) } catch {
            Glibc.close(fd)
            throw error
        }
        socket = fd
        var hello: ControlMessage.Reply
        do { hello = try request(.hello, arg: UInt32(ControlMessage.version)) } catch {
            // A daemon that did not admit us wrote BUSY and closed at once: our HELLO may have
            // failed to go out, and its answer still waits in the socket.
            var buffer = [UInt8](repeating: 0, count: ControlMessage.replySize)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n == ControlMessage.replySize, let pending = try? ControlMessage.Reply(decoding: buffer), pending.result == .busy else {
                Glibc.close(fd)
                throw error
            }
            hello = pending
        }
        if hello.result == .busy {
            Glibc.close(fd)
            throw TransportError(.busy, "the daemon at \(socketPath) did not admit this connection: too many connections (of this user, or in all); see its log")
        }
        guard hello.result == .success, Int(hello.value) == ChannelLayout.frameCapacity else {
            Glibc.close(fd)
            throw TransportError(.unreachable, "the daemon at \(socketPath) speaks another protocol")
        }
    }

    deinit {
        close()
        spare.exchange(nil, ordering: .acquiring)?.release()
    }

    /// One control request and its reply, in order (requests from several threads queue here).
    @discardableResult
    func request(_ kind: ControlMessage.Kind, arg: UInt32 = 0, size: UInt64 = 0, fd: Int32 = -1) throws(TransportError) -> ControlMessage.Reply {
        guard !isForked else { throw forkedError }
        return try control.withLock { (seq: inout UInt32) throws(TransportError) -> ControlMessage.Reply in
            seq &+= 1
            let message = ControlMessage(kind: kind, seq: seq, arg: arg, size: size)
            guard cteep_send(socket, message.encoded, ControlMessage.requestSize, fd) == 0 else {
                throw TransportError(.closed, "the secure-world daemon is gone (\(errnoText()))")
            }
            var buffer = [UInt8](repeating: 0, count: ControlMessage.replySize)
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBytes { cteep_recv(socket, $0.baseAddress, $0.count, &received) }
            if received >= 0 { Glibc.close(received) }
            guard n == ControlMessage.replySize else { throw TransportError(.closed, "the secure-world daemon is gone") }
            let reply = try ControlMessage.Reply(decoding: buffer)
            guard reply.seq == seq, reply.kind == kind else { throw TransportError(.malformedReply, "control reply out of order") }
            return reply
        }
    }

    /// Whether the daemon's end of the socket is still open.
    var isAlive: Bool { cteep_peer_gone(socket) == 0 }

    public func exchange(_ frame: [UInt8]) throws(TransportError) -> [UInt8] {
        try exchange { $0 = frame }
    }

    public func exchange(encoding encode: (inout [UInt8]) -> Void) throws(TransportError) -> [UInt8] {
        guard !isForked else { throw forkedError }
        let channel = try acquire()
        encode(&channel.request)
        let frame = channel.request
        do {
            let reply = try channel.call(frame) { isAlive }
            giveBack(channel)
            return reply
        } catch {
            // A channel whose call failed is not reused (its sequence may be out of step).
            pool.withLock { $0.open -= 1 }
            if waiters.load(ordering: .acquiring) > 0 { pool.signalAll() }
            throw error
        }
    }

    /// A channel whose call completed goes to the spare slot, or to the pool if the slot is
    /// taken or a call waits for a channel.
    private func giveBack(_ channel: ClientChannel) {
        if waiters.load(ordering: .acquiring) == 0 {
            let held = Unmanaged.passRetained(channel)
            guard !spare.compareExchange(expected: nil, desired: held, ordering: .acquiringAndReleasing).exchanged else { return }
            held.release()
        }
        pool.withLock { $0.free.append(channel) }
        if waiters.load(ordering: .acquiring) > 0 { pool.signalAll() }
    }

    private func acquire() throws(TransportError) -> ClientChannel {
        if let held = spare.exchange(nil, ordering: .acquiringAndReleasing) {
            let channel = held.takeRetainedValue()
            guard !closedFlag.load(ordering: .acquiring) else { throw TransportError(.closed, "the connection is closed") }
            return channel
        }
        enum Next { case reuse(ClientChannel), open, full, closed }
        func next(_ p: inout (free: [ClientChannel], open: Int, closed: Bool, cap: Int)) -> Next {
            if p.closed { return .closed }
            if let c = p.free.popLast() { return .reuse(c) }
            guard p.open < p.cap else { return .full }
            p.open += 1
            return .open
        }
        var step = pool.withLock { next(&$0) }
        if case .full = step {
            // More concurrent calls than channels: this one waits for a channel to come back,
            // as OP-TEE's driver queues calls when every secure thread is busy (red-team L1).
            waiters.add(1, ordering: .sequentiallyConsistent)
            defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
            while true {
                if let held = spare.exchange(nil, ordering: .acquiringAndReleasing) { step = .reuse(held.takeRetainedValue()); break }
                if let n = pool.withLockWaiting(milliseconds: 50, { p -> Next? in
                    let n = next(&p)
                    if case .full = n { return nil }
                    return n
                }) {
                    step = n
                    break
                }
                guard isAlive else { throw TransportError(.closed, "the secure-world daemon is gone") }
            }
        }
        switch step {
        case .reuse(let c): return c
        case .closed: throw TransportError(.closed, "the connection is closed")
        case .full: throw TransportError(.outOfMemory, "no channel")   // not reached: waited for above
        case .open:
            let region: MappedRegion
            let reply: ControlMessage.Reply
            do throws(TransportError) {
                region = try MappedRegion.create(count: ChannelLayout.size, name: "rproc-tee-channel")
                reply = try request(.openChannel, size: UInt64(ChannelLayout.size), fd: region.fd)
                region.closeDescriptor()
            } catch {
                unopen()
                throw error
            }
            if reply.result == .outOfMemory {
                // The daemon's thread budget: this connection keeps the channels it has, and
                // calls past them wait for one (with none at all, the call fails).
                let haveSome = pool.withLock { p -> Bool in
                    p.open -= 1
                    p.cap = p.open
                    return p.open > 0
                }
                guard haveSome else { throw TransportError(.outOfMemory, "the daemon has no thread to serve a channel") }
                return try acquire()
            }
            guard reply.result == .success else {
                unopen()
                throw TransportError(.outOfMemory, "the daemon refused a channel (\(reply.result))")
            }
            return ClientChannel(id: reply.value, region: region)
        }
    }

    /// A channel that was to be opened was not: its place goes back (and to a waiting call).
    private func unopen() {
        pool.withLock { $0.open -= 1 }
        if waiters.load(ordering: .acquiring) > 0 { pool.signalAll() }
    }

    public func createRegion(count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer) {
        let region = try MappedRegion.create(count: count, name: "rproc-tee-shm")
        let reply = try request(.addRegion, arg: flags, size: UInt64(count), fd: region.fd)
        region.closeDescriptor()
        guard reply.result == .success else { throw TransportError(.outOfMemory, "the daemon refused \(count) bytes of shared memory (\(reply.result))") }
        regions.withLock { $0[reply.value] = region }
        return (reply.value, region)
    }

    public func registerRegion(fileDescriptor fd: Int32, count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer) {
        let region = try MappedRegion.mapCallers(fd: fd, count: count)
        let reply = try request(.addRegion, arg: flags, size: UInt64(count), fd: region.fd)
        region.closeDescriptor()
        guard reply.result == .success else { throw TransportError(.badRegion, "the daemon refused the descriptor (\(reply.result))") }
        regions.withLock { $0[reply.value] = region }
        return (reply.value, region)
    }

    public func releaseRegion(id: UInt32) {
        guard regions.withLock({ $0.removeValue(forKey: id) }) != nil else { return }
        _ = try? request(.removeRegion, arg: id)
    }

    public func close() {
        let wasOpen = pool.withLock { p -> Bool in
            defer { p.closed = true; p.free = [] }
            return !p.closed
        }
        guard wasOpen else { return }
        closedFlag.store(true, ordering: .releasing)
        pool.signalAll()
        spare.exchange(nil, ordering: .acquiringAndReleasing)?.release()
        // A forked child only lets go of its copy: shutdown would end the parent's connection.
        if !isForked { shutdown(socket, Int32(SHUT_RDWR)) }
        Glibc.close(socket)
        regions.withLock { $0 = [:] }
    }
}
