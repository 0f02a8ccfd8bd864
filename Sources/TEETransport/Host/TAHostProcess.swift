#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
import TEECore

/// A TA host process as the core sees it: its pid, its link, and the core's end of a socket pair
/// over which the core sends the descriptors of the client memory a call names.
public final class TAHostProcess: @unchecked Sendable {
    // @unchecked: `pid` and the descriptors are fixed; `reaping` is behind its lock.
    public let pid: Int32
    public let link: HostLink
    let socket: Int32
    /// The read end of the host's standard output and error (see `readOutput`).
    let output: Int32
    private let reaping = Locked(false)

    /// How a host ended, from waitpid's status.
    public enum Exit: Sendable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signalled(let signal): "killed by signal \(signal) (\(Self.name(signal)))"
            }
        }

        static func name(_ signal: Int32) -> String {
            switch signal {
            case SIGKILL: "SIGKILL"
            case SIGSEGV: "SIGSEGV"
            case SIGBUS: "SIGBUS"
            case SIGILL: "SIGILL"
            case SIGTRAP: "SIGTRAP"
            case SIGABRT: "SIGABRT"
            case SIGTERM: "SIGTERM"
            case SIGFPE: "SIGFPE"
            default: "signal \(signal)"
            }
        }
    }

    /// The argument a host is started with (after the executable). A daemon executable of one's
    /// own calls `TAHost.runIfRequested` first thing, which recognizes it.
    public static let hostArgument = "--rproc-tee-ta-host"

    /// The environment variable that tells a process it was started as a TA host.
    public static let environmentKey = "RPROC_TEE_TA_HOST"

    private init(pid: Int32, link: HostLink, socket: Int32, output: Int32) {
        self.pid = pid
        self.link = link
        self.socket = socket
        self.output = output
    }

    /// Starts `executable` as a TA host: its descriptor 3 is the link, 4 its end of the socket
    /// pair, 0 is /dev/null, 1 and 2 a pipe whose other end `readOutput` reads; nothing else is
    /// inherited (not the daemon's log, not a client's memory). Call it from a thread that lives as long as the daemon:
    /// the host dies with the thread that started it (PR_SET_PDEATHSIG), so that no host
    /// outlives a daemon that was killed.
    public static func spawn(executable: String, arguments: [String], environment: [String]) throws(TransportError) -> TAHostProcess {
        let link = try HostLink.create()
        var pair: [Int32] = [-1, -1]
        guard cteep_socketpair(&pair) == 0 else { throw TransportError(.outOfMemory, "socketpair: \(errnoText())") }
        var pipe: [Int32] = [-1, -1]
        guard cteep_pipe(&pipe) == 0 else {
            close(pair[0]); close(pair[1])
            throw TransportError(.outOfMemory, "pipe: \(errnoText())")
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = (environment + ["\(environmentKey)=\(getpid())", "SWIFT_BACKTRACE=enable=no", "MALLOC_ARENA_MAX=1"]).map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        let pid = cteep_spawn_host(executable, argv, envp, link.descriptor, pair[1], pipe[1])
        let reason = errnoText()
        close(pair[1])
        close(pipe[1])
        link.closeDescriptor()
        guard pid > 0 else {
            close(pair[0])
            close(pipe[0])
            throw TransportError(.unreachable, "cannot start the TA host \(executable): \(reason)")
        }
        return TAHostProcess(pid: pid, link: link, socket: pair[0], output: pipe[0])
    }

    /// Sends one descriptor to the host (the next memory reference of the call). The host maps
    /// it and closes it; a read-only descriptor can only be mapped read-only.
    public func send(descriptor fd: Int32) throws(TransportError) {
        var marker: UInt8 = 0x4D
        guard cteep_send(socket, &marker, 1, fd) == 0 else { throw TransportError(.closed, "the TA host is gone (\(errnoText()))") }
    }

    /// Reads what the host writes to its standard output and error until it ends (the pipe's
    /// only writer is the host: a host cannot fork), line by line. Attacker: the host — a line is
    /// cut at `maxLine` bytes and, after `maxLines` lines, the rest is read and dropped (counted
    /// in one last call), so a chatty host neither blocks on a full pipe nor floods the log.
    public func readOutput(maxLines: Int = 200, maxLine: Int = 1000, _ line: (String) -> Void) {
        var pending: [UInt8] = []
        var lines = 0, dropped = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        func emit(_ bytes: ArraySlice<UInt8>) {
            if lines < maxLines {
                line(String(decoding: bytes.prefix(maxLine), as: UTF8.self))
                lines += 1
            } else {
                dropped += 1
            }
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            for byte in chunk[0..<n] {
                if byte == 0x0A {
                    emit(pending[...])
                    pending.removeAll(keepingCapacity: true)
                } else if pending.count <= maxLine {
                    pending.append(byte)
                }
            }
        }
        if !pending.isEmpty { emit(pending[...]) }
        if dropped > 0 { line("(\(dropped) more lines of output dropped)") }
        close(output)
    }

    /// Blocks until the host has ended and reaps it (one thread per host calls this).
    public func waitForExit() -> Exit {
        // Wait without reaping first: until it is reaped the pid cannot be reused, so `kill`
        // (which checks `reaping` under the same lock) never signals another process.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        reaping.withLock { $0 = true }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(socket)
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7F
        let exit: Exit = signal != 0 ? .signalled(signal) : .exited((status >> 8) & 0xFF)
        link.markDead()
        return exit
    }

    /// Whether the process has ended (without reaping it: the reaper still sees it end).
    public var hasExited: Bool {
        var info = siginfo_t()   // zeroed: WNOHANG leaves it so while the child runs
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
        return info.si_signo != 0
    }

    /// Ends the host at once (a host that broke the protocol, or would not stop after a
    /// cancellation). The reaper sees it die.
    public func kill() {
        reaping.withLock { reaped in
            if !reaped { _ = Glibc.kill(pid, SIGKILL) }
        }
    }

    /// A descriptor for `region` that the host can only map as the call allows: the region's
    /// own (read-write) one for an output reference, a read-only reopening of it for an input.
    public static func descriptor(for region: MappedRegion, writable: Bool) -> Int32? {
        guard region.fd >= 0 else { return nil }
        if writable { return region.fd }
        return open("/proc/self/fd/\(region.fd)", O_RDONLY | O_CLOEXEC)
    }
}

/// A window onto client memory mapped into a TA host for one call: exactly the bytes the call
/// names, read-only for an input reference. After the call it is unmapped; a TA that kept it
/// and touches it later ends (its process, not the core).
public final class MappedWindow: SharedByteBuffer, @unchecked Sendable {
    // @unchecked: the mapping is fixed until `unmap`, which the host calls after the entry point
    // returned (nothing of the TA runs concurrently with it).
    public let count: Int
    /// Which memory reference of the call this is (a TA passing it on to another TA names it).
    public let slot: Int
    private var base: UnsafeMutableRawPointer?
    private let delta: Int
    private let length: Int
    private let writable: Bool

    /// Maps `count` bytes at `offset` of `fd` (taken over: closed here). Attacker: none — the core
    /// chose offset and size inside a region it checked; the kernel checks the descriptor's mode.
    public init(fd: Int32, offset: UInt64, count: Int, writable: Bool, slot: Int) throws(TransportError) {
        defer { close(fd) }
        self.count = count
        self.slot = slot
        self.writable = writable
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        delta = Int(offset - start)
        length = delta + max(count, 1)
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        guard let p = mmap(nil, length, protection, MAP_SHARED, fd, off_t(start)), p != MAP_FAILED else {
            throw TransportError(.badRegion, "mmap of a \(count)-byte window at \(offset): \(errnoText())")
        }
        base = p
    }

    deinit { unmap() }

    /// Ends the window (the call is over).
    public func unmap() {
        if let base { munmap(base, length) }
        base = nil
    }

    /// Where the window's first byte is mapped, for a native TA's TEE_Param (which points into
    /// it, as OP-TEE's do into the mapped client memory); nil once unmapped. An input window is
    /// mapped read-only: a TA that writes there faults (its own process).
    public var baseAddress: UnsafeMutableRawPointer? { base.map { $0 + delta } }

    private func address(_ offset: Int) -> UnsafeMutableRawPointer {
        guard let base else { fatalError("rproc-tee: a memory reference was used after the call that passed it returned") }
        return base + delta + offset
    }

    public func copyBytes(offset: Int, count: Int) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        // SAFETY: [offset, offset + count) lies inside the window (checked above); mapped until unmap.
        return [UInt8](UnsafeRawBufferPointer(start: address(offset), count: count))
    }

    public func copyBytes(offset: Int, count: Int, into destination: inout [UInt8], at destinationOffset: Int) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        precondition(destinationOffset >= 0 && destinationOffset <= destination.count - count, "destination out of range")
        let source = address(offset)
        // SAFETY: both ranges were checked.
        destination.withUnsafeMutableBytes { dst in _ = memcpy(dst.baseAddress! + destinationOffset, source, count) }
    }

    public func atomicWrappingAdd(offset: Int, _ delta: UInt32) -> UInt32? {
        precondition(offset >= 0 && offset <= count - 4, "shared-memory atomic out of range")
        precondition(writable, "an atomic on an input-only memory reference")
        let word = address(offset)
        // Attacker: the client, whose partial reference may start on any byte.
        guard Int(bitPattern: word) % 4 == 0 else { return nil }
        // SAFETY: inside the window, aligned, mapped writable until the entry point returned.
        return cteep_fetch_add(word.assumingMemoryBound(to: UInt32.self), delta) &+ delta
    }

    public func withBytes<R>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TEEResult) -> R) throws(TEEResult) -> R {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        // SAFETY: the range was checked; the window stays mapped until the entry point returned.
        return try body(UnsafeRawBufferPointer(start: address(offset), count: count))
    }

    public func copyBytes(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        // SAFETY: the source range was checked; the caller vouches for the destination.
        _ = memcpy(destination, address(offset), count)
    }

    public func store(_ bytes: [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset <= count - bytes.count, "shared-memory write out of range")
        precondition(writable, "a write into an input-only memory reference")
        let destination = address(offset)
        // SAFETY: the range was checked; the window is mapped writable.
        bytes.withUnsafeBytes { src in _ = memcpy(destination, src.baseAddress!, bytes.count) }
    }
}

/// The host's end of the socket pair: receives the descriptors of a call, in order.
public enum HostDescriptors {
    /// The next descriptor the core sent on `socket`, or nil if the core is gone.
    public static func receive(on socket: Int32) -> Int32? {
        var byte: UInt8 = 0
        var fd: Int32 = -1
        let n = cteep_recv(socket, &byte, 1, &fd)
        guard n == 1, fd >= 0 else {
            if fd >= 0 { close(fd) }
            return nil
        }
        return fd
    }

    /// The host dies with the thread that started it (the daemon's spawner): PR_SET_PDEATHSIG.
    public static func dieWithParent() { _ = cteep_die_with_parent() }

    /// What `ps` and `top` call the calling thread (the main thread: the process), 15 bytes at most.
    public static func name(_ name: String) { _ = cteep_set_name(String(name.utf8.prefix(15)) ?? "ta") }
}
