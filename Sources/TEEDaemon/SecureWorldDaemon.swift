#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SecureWorld
import TAHost
import TEEInternalAPI
import TEETransport

/// `rproc-tee secure-world` as a library: serves a `SecureWorld` (with whatever TAs its owner
/// registered) to clients in other processes over the daemon transport, until SIGTERM or
/// SIGINT. A TA developer's own daemon is this with their TA types registered
/// (Examples/custom-ta).
///
/// It refuses to start on a socket another live daemon owns (an flock on `<socket>.lock`, then
/// a connect probe for daemons that do not take the lock), removes a stale socket, creates the
/// default socket folder with mode 0700, and on shutdown closes every session, unmaps every
/// client's memory and removes the socket.
public final class SecureWorldDaemon {
    public struct Configuration: Sendable {
        public var socketPath: String
        /// The uids whose processes play the normal-world kernel (login REE_KERNEL, the
        /// remoteproc TA's only client). Default: root and the daemon's own user.
        public var kernelUIDs: Set<UInt32>
        public var limits = TransportServer.Limits()
        /// Every TA instance in a TA host process of its own (started from this executable,
        /// whose `main` calls `SecureWorldDaemon.hostTAsIfRequested` first). Off: TAs run in
        /// the daemon's process, and a TA panic ends the daemon.
        public var isolateTAs = true
        /// TA host processes kept started and waiting (a cold OpenSession takes one).
        public var readyHosts = 2
        /// TA host processes alive at most (the ready ones included).
        public var maxHosts = 128
        /// Shut down (cleanly, as on SIGTERM) when the process that started the daemon ends:
        /// for tools and test runners that start a daemon of their own and may be killed
        /// before they can stop it. Checked every 200 ms.
        public var exitWithParent = false
        /// The user TA host processes run as, `(uid, gid)`. Nil: when the daemon is root, the
        /// user `nobody` (hosts never run as root); otherwise the daemon's own user (hosts are
        /// then confined by their seccomp filter and are not dumpable).
        public var hostUser: (uid: UInt32, gid: UInt32)?
        /// The socket's permission bits (default 0600: only the daemon's user, and root, may
        /// connect). 0660 with `socketGroup` shares the daemon with a group's members, as a
        /// `teeclnt` group shares OP-TEE's /dev/teepriv0.
        public var socketMode: UInt32 = 0o600
        /// The socket's group (nil: the daemon's).
        public var socketGroup: UInt32?
        /// Native (C) TAs served from TA folders (nil: none).
        public var nativeTAs: NativeTAStore?
        /// Native TAs take precedence over registered TAs of the same UUID.
        public var nativeFirst = false
        /// Native TAs whose hosts start debuggable and stopped (`--ta-debug`).
        public var debuggedTAs: Set<TEEUUID> = []
        /// Libraries every TA host loads first (`--ta-preload`).
        public var hostPreloads: [String] = []
        /// The folder TA hosts write gcov data under (`--ta-coverage`): absolute, existing.
        public var coverageFolder: String?

        public init(socketPath: String = DaemonClientTransport.defaultSocketPath, kernelUIDs: Set<UInt32> = [0, UInt32(getuid())]) {
            self.socketPath = socketPath
            self.kernelUIDs = kernelUIDs
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    let world: SecureWorld
    let configuration: Configuration
    let logger: Logger
    private var lockFD: Int32 = -1
    private var server: TransportServer?

    public init(world: SecureWorld, configuration: Configuration, logger: Logger) {
        self.world = world
        self.configuration = configuration
        self.logger = logger
    }

    /// Call first in a daemon executable's `main`: if the daemon started this process as a TA
    /// host, it serves that TA (one of `types`, the TAs the daemon registers) and exits.
    public static func hostTAsIfRequested(_ types: [any TrustedApplication.Type]) {
        TAHost.runIfRequested(types)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down cleanly and returns.
    public func run(ready: (String) -> Void = { _ in }) throws {
        // Block the signals before any thread exists, so every thread inherits the mask and
        // only the sigwait below sees them. SIGPIPE: a dead client's socket is an error value.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        try start()
        if configuration.exitWithParent { watchParent() }
        ready(configuration.socketPath)
        var received: Int32 = 0
        repeat {
            sigwait(&signals, &received)
        } while received == SIGPIPE
        logger.info("signal \(received): shutting down")
        // A shutdown ends within 2 s whatever the TAs do: clients are dropped and their calls
        // asked to cancel (an isolated TA that ignores it is abandoned after 1 s); at 1.5 s every
        // TA host still alive is killed; at 2 s a daemon still waiting (a TA running in its own
        // process, --no-isolation, that ignores cancellation) removes its socket and exits.
        let world = self.world, logger = self.logger, socket = configuration.socketPath
        let stopped = Locked(false)
        defer { stopped.withLock { $0 = true } }
        let watchdog = Thread {
            usleep(1_500_000)
            guard !stopped.withLock({ $0 }) else { return }
            logger.warning("shutdown: TA hosts still running after 1.5 s are killed")
            world.killAllHosts()
            usleep(500_000)
            guard !stopped.withLock({ $0 }) else { return }
            logger.error("shutdown: a call did not end within 2 s; exiting without waiting for it")
            unlink(socket)
            unlink(socket + ".lock")
            fflush(nil)
            _exit(0)
        }
        watchdog.name = "rproc-tee shutdown watchdog"
        watchdog.start()
        stop()
    }

    /// A thread that sends this process SIGTERM once its parent is gone (the sigwait in `run`
    /// then shuts down as for any SIGTERM). A parent that is already gone (reparented to init
    /// before the watch began) counts as gone.
    private func watchParent() {
        let parent = getppid()
        let logger = self.logger
        let watcher = Thread {
            while getppid() == parent && parent != 1 { usleep(200_000) }
            logger.info("the process that started the daemon (pid \(parent)) is gone")
            kill(getpid(), SIGTERM)
        }
        watcher.name = "rproc-tee parent watch"
        watcher.start()
    }

    /// Takes the socket and starts serving (for embedding the daemon in a test or a bigger
    /// program; `run` calls it).
    public func start() throws {
        let path = configuration.socketPath
        let folder = (path as NSString).deletingLastPathComponent
        if DaemonClientTransport.isPrivateDefault(path) { try makePrivateFolder(folder) }
        try Self.checkFolder(folder.isEmpty ? "." : folder)
        guard configuration.socketMode & ~UInt32(0o666) == 0, configuration.socketMode & 0o600 == 0o600 else {
            throw StartError(description: "socket mode \(String(configuration.socketMode, radix: 8)) is not one of rw for the owner plus rw bits for the group or others (e.g. 0600, 0660, 0666)")
        }
        // One daemon per socket: an exclusive lock held for the daemon's life.
        let lockPath = path + ".lock"
        lockFD = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw StartError(description: "cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            lockFD = -1
            throw StartError(description: "another secure-world daemon is serving \(path)")
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw StartError(description: "\(path) exists and is not a socket (refused)") }
            if (try? DaemonClientTransport(socketPath: path)) != nil {
                throw StartError(description: "another secure-world daemon is serving \(path)")
            }
            unlink(path)
            logger.info("removed the stale socket \(path)")
        }
        // Every shared-memory region a client registers keeps its memfd open here (a TA host is
        // sent it for the calls that name it): take the descriptors the hard limit allows, not
        // the 1,024 a login shell's soft limit usually gives.
        var files = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < files.rlim_max {
            let soft = files.rlim_cur
            files.rlim_cur = files.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files) == 0 {
                logger.info("open-file limit raised from \(soft) to \(files.rlim_max)")
            }
        }
        // Regions keep descriptors: leave room below the limit for channels, sockets, TA hosts.
        var limits = configuration.limits
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files) == 0 {
            limits.regionsInAll = max(16, min(limits.regionsInAll, Int(files.rlim_cur) - 1024))
        }
        // Nothing of the same user can ptrace the daemon or read its /proc files (every
        // client's memory and the state folder are behind its descriptors): red-team H4.
        if !HostSandbox.protectDaemon() { logger.warning("PR_SET_DUMPABLE 0 failed: the daemon's memory is open to its own user") }
        if let native = configuration.nativeTAs { world.serveNativeTAs(from: native, first: configuration.nativeFirst) }
        if !configuration.debuggedTAs.isEmpty { world.debugNativeTAs(configuration.debuggedTAs) }
        if configuration.isolateTAs {
            var hostUser = configuration.hostUser
            if hostUser == nil && geteuid() == 0 {
                hostUser = Self.user(named: "nobody") ?? (65534, 65534)
            }
            if let hostUser {
                guard hostUser.uid != 0 else { throw StartError(description: "TA hosts cannot run as root (--ta-user)") }
                logger.info("TA hosts run as uid \(hostUser.uid) gid \(hostUser.gid)")
            }
            var environment: [String: String] = [:]
            if let native = configuration.nativeTAs { environment["RPROC_TEE_UTEE"] = native.runtimeLibrary }
            if !configuration.hostPreloads.isEmpty {
                // Mapped by the dynamic loader before the host's own libraries, so that their
                // interposers (a sanitizer's malloc, …) serve the TA: ASan insists on coming first.
                let inherited = ProcessInfo.processInfo.environment["LD_PRELOAD"].map { [$0] } ?? []
                environment["LD_PRELOAD"] = (configuration.hostPreloads + inherited).joined(separator: ":")
            }
            if let folder = configuration.coverageFolder {
                // The coverage helper writes as the hosts' user.
                if let hostUser, !Self.writable(folder, uid: hostUser.uid, gid: hostUser.gid) {
                    throw StartError(description: "--ta-coverage \(folder): TA hosts run as uid \(hostUser.uid), which cannot write there (give it to them, or name another --ta-user)")
                }
                environment[HostSandbox.coverageKey] = folder
                world.collectsCoverage.store(true, ordering: .releasing)
                logger.warning("TA hosts write coverage data under \(folder) (--ta-coverage): a TA may create and rewrite .gcda files there")
            }
            let launcher = TAHostLauncher(poolSize: configuration.readyHosts, maxHosts: configuration.maxHosts, hostUser: hostUser,
                                          environment: environment, logger: logger)
            // A sanitizer in the hosts (a developer's daemon): its reports get source lines.
            if configuration.nativeTAs != nil && !configuration.hostPreloads.isEmpty { world.symbolizeSanitizerReports(of: launcher) }
            world.isolate(using: launcher)
        }
        let kernelUIDs = configuration.kernelUIDs
        let logger = self.logger
        let server = TransportServer(path: path, endpoint: world, limits: limits, classify: { peer in
            var p = peer
            p.kernel = kernelUIDs.contains(peer.uid)
            return p
        }, report: { event in
            switch event {
            case .connected(let p): logger.info("client connected: uid \(p.uid) gid \(p.gid) pid \(p.pid)\(p.kernel ? " (normal-world kernel)" : "")")
            case .disconnected(let p, _): logger.info("client gone: uid \(p.uid) pid \(p.pid); its sessions closed, its memory unmapped")
            case .refused(let p, let why): logger.warning("refused\(p.map { " (uid \($0.uid) pid \($0.pid))" } ?? ""): \(why)")
            }
        })
        do { try server.start() } catch {
            throw StartError(description: error.reason)
        }
        self.server = server
        if configuration.socketMode != 0o600 || configuration.socketGroup != nil {
            // The socket was bound 0600; it opens up only now, as asked.
            guard chown(path, uid_t.max, configuration.socketGroup ?? gid_t.max) == 0, chmod(path, mode_t(configuration.socketMode)) == 0 else {
                let reason = String(cString: strerror(errno))
                server.stop()
                self.server = nil
                throw StartError(description: "cannot set the socket's mode or group: \(reason)")
            }
            logger.info("socket mode \(String(configuration.socketMode, radix: 8))\(configuration.socketGroup.map { ", group \($0)" } ?? ""): other users may connect (their identity still comes from the kernel)")
        }
        logger.info("secure world listening on \(path)")
    }

    /// Drops every client (sessions closed, memory unmapped), removes the socket and the lock.
    public func stop() {
        server?.stop()
        server = nil
        world.stopIsolation()
        if lockFD >= 0 {
            unlink(configuration.socketPath + ".lock")
            close(lockFD)
            lockFD = -1
        }
        logger.info("secure world stopped")
    }

    /// The socket's folder must be ours (or root's) and writable by nobody else: in a folder
    /// others may write, another user could take the lock file or the socket's name first and
    /// keep the daemon from starting, or wait for clients there (red-team H3).
    static func checkFolder(_ folder: String) throws {
        var st = stat()
        guard lstat(folder, &st) == 0 else {
            throw StartError(description: "the socket's folder \(folder): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw StartError(description: "the socket's folder \(folder) is not a folder (refused)") }
        guard st.st_uid == geteuid() || st.st_uid == 0 else {
            throw StartError(description: "the socket's folder \(folder) belongs to uid \(st.st_uid), not to this user or root (refused)")
        }
        guard st.st_mode & 0o022 == 0 else {
            throw StartError(description: "the socket's folder \(folder) can be written by other users (mode \(String(st.st_mode & 0o7777, radix: 8))): put the socket in a folder only its owner can write, e.g. $XDG_RUNTIME_DIR or /run/rproc-tee")
        }
    }

    /// A group's gid from the group database; nil if there is no such group.
    public static func group(named name: String) -> UInt32? {
        getgrnam(name).map { $0.pointee.gr_gid }
    }

    /// Whether `uid:gid` (no supplementary groups: a host has none) may create files in `folder`.
    static func writable(_ folder: String, uid: UInt32, gid: UInt32) -> Bool {
        var st = stat()
        guard stat(folder, &st) == 0 else { return false }
        let mode = UInt32(st.st_mode)
        if st.st_uid == uid { return mode & 0o300 == 0o300 }
        if st.st_gid == gid { return mode & 0o030 == 0o030 }
        return mode & 0o003 == 0o003
    }

    /// A user's uid and primary gid from the user database; nil if there is no such user.
    public static func user(named name: String) -> (uid: UInt32, gid: UInt32)? {
        guard let entry = getpwnam(name) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// A default socket's folder (/run/rproc-tee for root, /tmp/rproc-tee-<uid>): ours, a
    /// folder, mode 0700 — or refused.
    private func makePrivateFolder(_ folder: String) throws {
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw StartError(description: "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == getuid() else {
            throw StartError(description: "\(folder) is not a folder of this user (refused: someone may be waiting for our socket)")
        }
        if st.st_mode & 0o077 != 0 { chmod(folder, 0o700) }
    }
}
