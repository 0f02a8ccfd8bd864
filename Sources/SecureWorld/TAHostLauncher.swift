import Foundation
import Logging
import TEEInternalAPI
import TEETransport
import TEEWire

/// Starts TA host processes from the daemon's own executable and keeps a small pool of them
/// ready, so that a cold OpenSession does not wait for a process to start (a Swift process
/// takes milliseconds to start; handing over a ready one takes microseconds).
///
/// Every host is started by one long-lived thread (a host dies with the thread that started it,
/// PR_SET_PDEATHSIG, so that none outlives a killed daemon), and each is reaped by a thread of
/// its own, which tells the instance using it how it ended.
public final class TAHostLauncher: @unchecked Sendable {
    // @unchecked: the pool is guarded by `condition`.
    public let executable: String
    public let arguments: [String]
    public let poolSize: Int
    /// How long a TA may take to answer once its client asked to cancel before it is abandoned
    /// (killed: the call answers TARGET_DEAD).
    public let abandonAfter: Double
    /// TA host processes alive at most, the ready ones included (a TA opening sessions to a
    /// multi-instance TA in a loop cannot start processes without end).
    public let maxHosts: Int
    /// The `uid:gid` hosts become (the daemon is root: hosts never are); nil when the daemon is
    /// not root (hosts keep its user, confined by their filter and not dumpable).
    public let hostUser: String?
    let extraEnvironment: [String: String]
    /// Rewrites a line a host wrote before it reaches the secure log (a sanitizer's frames
    /// given their source lines: `SanitizerSymbolizer`); set before the launcher starts.
    var annotateOutput: (@Sendable (String) -> String)?
    let logger: Logger
    private let condition = NSCondition()
    private var ready: [HostHandle] = []
    private var waiting = 0
    private var running = false
    private var stopping = false
    /// Hosts started and not yet reaped; whether one is being started now.
    private var live = 0
    private var starting = false
    private let reapers = DispatchGroup()
    /// Every host started and not yet reaped (`killAll` ends them).
    private var hosts: [Int32: HostHandle] = [:]

    /// - Parameters:
    ///   - executable: default `/proc/self/exe`, the daemon's own binary (even if it was
    ///     replaced on disk since).
    ///   - environment: more variables for every host (libutee.so's path, when native TAs are served).
    public init(executable: String = "/proc/self/exe", arguments: [String] = [TAHostProcess.hostArgument], poolSize: Int = 2,
                abandonAfter: Double = 1.0, maxHosts: Int = 128, hostUser: (uid: UInt32, gid: UInt32)? = nil,
                environment: [String: String] = [:], logger: Logger) {
        self.hostUser = hostUser.map { "\($0.uid):\($0.gid)" }
        self.extraEnvironment = environment
        self.executable = executable
        self.arguments = arguments
        self.poolSize = poolSize
        self.abandonAfter = abandonAfter
        self.maxHosts = max(maxHosts, poolSize + 1)
        self.logger = logger
    }

    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        Thread.detachNewThread { [self] in spawnLoop() }
        // The daemon says it is ready once the pool is: the first OpenSession is then as cheap
        // as any cold one.
        let deadline = Date().addingTimeInterval(10)
        while ready.count < poolSize && condition.wait(until: deadline) {}
    }

    /// Ends the ready hosts and the spawner; waits until every host started has been reaped.
    func stop() {
        condition.lock()
        stopping = true
        let idle = ready
        ready = []
        condition.broadcast()
        condition.unlock()
        for h in idle { h.process.kill() }
        reapers.wait()
    }

    /// Hosts started and not yet reaped, the waiting ones included.
    var liveHosts: Int { condition.withLock { live } }

    /// Kills every host (a shutdown whose TAs did not stop in time): their calls end with
    /// TARGET_DEAD, and the threads that waited on them go on.
    func killAll() {
        let all = condition.withLock { Array(hosts.values) }
        for h in all { h.process.kill() }
    }

    /// A ready host (waiting for one if the pool is empty). Fails if hosts cannot be started.
    func take() throws(TEEError) -> HostHandle {
        condition.lock()
        defer { condition.unlock() }
        waiting += 1
        defer { waiting -= 1 }
        condition.broadcast()
        let deadline = Date().addingTimeInterval(10)
        // At the limit, a host that is ending (a session just closed) gets a moment to be reaped.
        let atLimitDeadline = Date().addingTimeInterval(0.5)
        while ready.isEmpty {
            guard !stopping else { throw TEEError(.outOfMemory, origin: .tee) }
            if live >= maxHosts && !starting {
                guard Date() < atLimitDeadline else {
                    logger.warning("OpenSession refused: \(live) TA host processes are alive (the limit)")
                    throw TEEError(.outOfMemory, origin: .tee)
                }
                _ = condition.wait(until: atLimitDeadline)
            } else {
                guard Date() < deadline else {
                    logger.error("no TA host could be started from \(executable) within 10 s")
                    throw TEEError(.outOfMemory, origin: .tee)
                }
                _ = condition.wait(until: deadline)
            }
        }
        let host = ready.removeFirst()
        condition.broadcast()   // the spawner refills
        // A spare that died while it waited (killed from outside) is not a dead TA: it is
        // dropped, and the next one (or a fresh one) serves this OpenSession.
        if host.process.hasExited {
            logger.warning("a waiting TA host (pid \(host.process.pid)) had died: replaced")
            condition.unlock()
            defer { condition.lock() }
            return try take()
        }
        return host
    }

    /// A host of its own for a TA under `--ta-debug` (not from the pool: it is started
    /// debuggable), ready. Counts against the hosts alive.
    func takeDebuggable() throws(TEEError) -> HostHandle {
        let full = condition.withLock { live >= maxHosts }
        guard !full, let host = spawnOne(debuggable: true) else { throw TEEError(.outOfMemory, origin: .tee) }
        return host
    }

    private func spawnLoop() {
        var failures = 0
        while true {
            condition.lock()
            while !stopping && (ready.count >= max(poolSize, waiting) || live >= maxHosts) { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            // A host was just taken: its OpenSession is running. Starting a process (tens of
            // milliseconds of CPU) at the same moment would slow it down on a small machine, so
            // the refill waits a little — unless someone is waiting for a host.
            if waiting == 0 && !ready.isEmpty {
                _ = condition.wait(until: Date().addingTimeInterval(0.01))
                if stopping || live >= maxHosts || ready.count >= max(poolSize, waiting) {
                    condition.unlock()
                    continue
                }
            }
            starting = true
            condition.unlock()
            let started = spawnOne()
            condition.lock()
            // One step: a take never sees "none ready, none starting" while this one is ready.
            starting = false
            if let host = started, !stopping { ready.append(host) } else { started?.process.kill() }
            condition.broadcast()
            condition.unlock()
            if started != nil {
                failures = 0
            } else {
                failures += 1
                // A host that cannot start (a broken executable) is retried slowly, not in a loop.
                Thread.sleep(forTimeInterval: min(2.0, 0.05 * Double(failures)))
            }
        }
    }

    /// Starts one host and waits for its hello (the first frame it sends once it runs).
    private func spawnOne(debuggable: Bool = false) -> HostHandle? {
        let process: TAHostProcess
        do {
            var environment = ProcessInfo.processInfo.environment
            environment[HostSandbox.userKey] = hostUser
            environment.merge(extraEnvironment) { _, new in new }
            if debuggable { environment[HostSandbox.debugKey] = "1" }
            process = try TAHostProcess.spawn(executable: executable, arguments: arguments, environment: environment.map { "\($0)=\($1)" })
        } catch {
            logger.error("cannot start a TA host: \(error.reason)")
            return nil
        }
        let host = HostHandle(process: process)
        condition.withLock {
            live += 1
            hosts[process.pid] = host
        }
        reapers.enter()
        Thread.detachNewThread { [self] in
            host.reap(logger: logger, annotate: annotateOutput)
            condition.withLock {
                live -= 1
                hosts[host.process.pid] = nil
                ready.removeAll { $0 === host }
                condition.broadcast()
            }
            reapers.leave()
        }
        let started = Date()
        let hello = process.link.receiveUp { if Date().timeIntervalSince(started) > 10 { process.kill() } }
        guard let hello, case .done(.success, _)? = try? HostMessage(decoding: hello) else {
            logger.error("the TA host \(executable) (pid \(process.pid)) did not start: a daemon executable must call TAHost.runIfRequested first")
            process.kill()
            return nil
        }
        logger.debug("TA host pid \(process.pid) ready")
        return host
    }
}

/// A host process and what happens when it ends (the reaper's report, delivered once).
final class HostHandle: @unchecked Sendable {
    let process: TAHostProcess
    private let state = Locked<(exit: TAHostProcess.Exit?, handler: (@Sendable (TAHostProcess.Exit) -> Void)?)>((nil, nil))

    init(process: TAHostProcess) {
        self.process = process
    }

    private let ended = NSCondition()
    private var hasEnded = false

    /// Whether the process ended (was reaped) within `seconds`.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        ended.lock()
        defer { ended.unlock() }
        while !hasEnded && ended.wait(until: deadline) {}
        return hasEnded
    }

    /// Blocks until the process ends (the reaper thread), then reports. What the host wrote to
    /// its standard output and error (a runtime's fatal message, a sanitizer's report) reaches
    /// the secure log on the way, one line at a time, escaped.
    func reap(logger: Logger, annotate: (@Sendable (String) -> String)? = nil) {
        let pid = process.pid
        process.readOutput { line in logger.notice("TA host pid \(pid): \(SecureWorld.oneLine(annotate?(line) ?? line))") }
        let exit = process.waitForExit()
        ended.withLock {
            hasEnded = true
            ended.broadcast()
        }
        // The handler is dropped once called: it may hold the instance that holds this handle.
        let handler = state.withLock { s -> (@Sendable (TAHostProcess.Exit) -> Void)? in
            s.exit = exit
            defer { s.handler = nil }
            return s.handler
        }
        handler?(exit)
    }

    /// Runs `handler` when the process ends (at once if it already has).
    func onExit(_ handler: @escaping @Sendable (TAHostProcess.Exit) -> Void) {
        let exit = state.withLock { s -> TAHostProcess.Exit? in
            if s.exit == nil { s.handler = handler }
            return s.exit
        }
        if let exit { handler(exit) }
    }
}
