#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform

/// What makes a TA host process a sandbox (DESIGN.md §2), in the order it is applied:
///
/// 1. at start, before anything else runs: the unprivileged user the daemon names (when the
///    daemon is root) — all three uids and gids, no supplementary groups, an empty capability
///    bounding set — then not dumpable (its memory and /proc files are closed to its own user,
///    ptrace refused), then death with the daemon;
/// 2. once the host has warmed up and before it tells the core it is ready (so before any TA's
///    code runs in it, and off a client's cold OpenSession): `no_new_privs` and the seccomp
///    filter of `HostFilter.c` on every thread (every system call off its list fails with
///    EPERM: no file, socket, process or ptrace).
///
/// The host's descriptors are its link, its descriptor socket, /dev/null as input and a pipe to
/// the secure log as output (`TAHostProcess.spawn`): nothing of the daemon's.
public enum HostSandbox {
    /// The environment variable that names the user a host becomes (`uid:gid`).
    public static let userKey = "RPROC_TEE_TA_HOST_USER"
    /// Set (to 1) for the host of a TA the daemon debugs (`secure-world --ta-debug`).
    public static let debugKey = "RPROC_TEE_TA_DEBUG"
    /// The folder a TA's gcov data goes under (`secure-world --ta-coverage`).
    public static let coverageKey = "RPROC_TEE_TA_COVERAGE"

    /// Whether this host writes coverage data (`--ta-coverage`): its TA's instance then ends
    /// through `exit`, whose handlers run gcov's dump, not `_exit`.
    public private(set) nonisolated(unsafe) static var coverage = false

    /// Why a step failed (the host then ends before serving anything).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Step 1. `user`: the `uid:gid` to become (nil: stay the daemon's user, which is then not
    /// root — the daemon only omits it when it is not root).
    public static func enter(user: String?, debuggable: Bool = false) throws(Failure) {
        if let user {
            let parts = user.split(separator: ":")
            guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else {
                throw Failure(description: "\(userKey) is not uid:gid")
            }
            guard cteep_drop_privileges(uid, gid) == 0 else {
                throw Failure(description: "cannot become uid \(uid) gid \(gid): \(errnoText())")
            }
        } else if geteuid() == 0 {
            throw Failure(description: "a TA host does not run as root (the daemon names a user for it)")
        }
        if debuggable {
            // The one relaxation of `--ta-debug`: a debugger of the host's user may attach (its
            // memory is readable by that user's processes). The filter is installed as always.
            guard cteep_allow_debugger() == 0 else { throw Failure(description: "PR_SET_DUMPABLE: \(errnoText())") }
        } else {
            guard cteep_set_dumpable(0) == 0 else { throw Failure(description: "PR_SET_DUMPABLE: \(errnoText())") }
        }
    }

    /// Step 2: no_new_privs and the seccomp filter, for good. Opens trap into the open broker
    /// (`allowOpen`), whose handler is installed first.
    public static func lockDown() throws(Failure) {
        guard cteep_broker_install() == 0 else { throw Failure(description: "SIGSYS handler: \(errnoText())") }
        // `--ta-coverage`: the helper that opens .gcda files under the folder starts now, while
        // the host may still fork, and before any TA's code is in it (CoverageBroker.c).
        if let folder = getenv(coverageKey).map({ String(cString: $0) }) {
            guard cteep_coverage_start(folder) == 0 else { throw Failure(description: "coverage helper for \(folder): \(errnoText())") }
            coverage = true
        }
        guard cteep_no_new_privileges() == 0 else { throw Failure(description: "no_new_privs: \(errnoText())") }
        guard cteep_install_host_filter(getpid()) == 0 else { throw Failure(description: "seccomp filter: \(errnoText())") }
    }

    /// The folder a native TA and its libraries are opened from (it exists only in the broker).
    public static let brokerFolder = CTEEP_BROKER_FOLDER

    /// After `lockDown`, a read-only open of `path` (under `brokerFolder`) opens `fd` — a sealed
    /// memfd the core sent, which the caller keeps open — and no other file opens at all.
    public static func allowOpen(_ path: String, fd: Int32) -> Bool { cteep_broker_register(path, fd) == 0 }

    /// The daemon itself: not dumpable, so that a process of its own user (a TA host before its
    /// filter, any other program) can neither ptrace it nor read /proc/<daemon>/fd or /mem,
    /// where every client's memory and the state folder's descriptors are.
    @discardableResult
    public static func protectDaemon() -> Bool { cteep_set_dumpable(0) == 0 }
}
