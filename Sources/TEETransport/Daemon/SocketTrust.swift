#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform

/// How a client knows it talks to the real TEE (red-team H3): the socket's folder and the
/// socket belong to a trusted user — the client's own, root, or the one `$RPROC_TEE_DAEMON_UID`
/// names (a daemon run as a service user) — and the process listening on it is the folder
/// owner's or root's (SO_PEERCRED). Attacker: another local user who creates the default folder
/// (`/tmp/rproc-tee-<uid>`) or a socket where a client will look, and serves a TEE of their own.
public enum SocketTrust {
    /// The environment variable naming one more uid whose daemon a client trusts.
    public static let daemonUIDKey = "RPROC_TEE_DAEMON_UID"

    /// The users whose folder, socket and daemon a client accepts.
    public static var trustedUIDs: Set<uid_t> {
        var uids: Set<uid_t> = [geteuid(), 0]
        if let text = getenv(daemonUIDKey).map({ String(cString: $0) }), let uid = uid_t(text) { uids.insert(uid) }
        return uids
    }

    /// What `check` found: the folder's owner, for the peer check after connecting.
    public struct Owners: Sendable {
        public let folder: uid_t
    }

    /// Checks the folder and the socket before connecting. A folder others may write is
    /// accepted only with the sticky bit (then nobody but the socket's owner can replace it,
    /// and its owner is checked).
    public static func check(_ path: String) throws(TransportError) -> Owners {
        let trusted = trustedUIDs
        let folder = Self.folder(of: path)
        var st = stat()
        guard lstat(folder, &st) == 0 else {
            throw TransportError(.unreachable, "no secure-world daemon at \(path): \(folder) \(errnoText().lowercased()) (start one with `rproc-tee secure-world`)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw TransportError(.untrusted, "refused \(path): its folder \(folder) is not a folder (a symbolic link?)")
        }
        guard trusted.contains(st.st_uid) else {
            throw TransportError(.untrusted, "refused \(path): its folder \(folder) belongs to uid \(st.st_uid), not to this user (uid \(geteuid())) or root — another user may be impersonating the TEE (set \(daemonUIDKey) to trust a daemon's service user)")
        }
        guard st.st_mode & 0o022 == 0 || st.st_mode & S_ISVTX != 0 else {
            throw TransportError(.untrusted, "refused \(path): its folder \(folder) can be written by other users (mode \(String(st.st_mode & 0o7777, radix: 8)))")
        }
        let folderOwner = st.st_uid
        guard lstat(path, &st) == 0 else {
            throw TransportError(.unreachable, "no secure-world daemon at \(path) (start one with `rproc-tee secure-world`)")
        }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw TransportError(.untrusted, "refused \(path): it is not a socket")
        }
        guard trusted.contains(st.st_uid) else {
            throw TransportError(.untrusted, "refused \(path): the socket belongs to uid \(st.st_uid), not to this user (uid \(geteuid())) or root — another user may be impersonating the TEE (set \(daemonUIDKey) to trust a daemon's service user)")
        }
        return Owners(folder: folderOwner)
    }

    /// After connecting: the listening process is the folder owner's or root's.
    public static func checkPeer(_ fd: Int32, path: String, owners: Owners) throws(TransportError) {
        var uid: UInt32 = 0, gid: UInt32 = 0, pid: Int32 = 0
        guard cteep_peer_credentials(fd, &uid, &gid, &pid) == 0 else {
            throw TransportError(.untrusted, "refused \(path): the daemon's credentials cannot be read (\(errnoText()))")
        }
        guard uid == 0 || (uid == owners.folder && trustedUIDs.contains(uid)) else {
            throw TransportError(.untrusted, "refused \(path): the process serving it (pid \(pid)) runs as uid \(uid), not as the folder's owner (uid \(owners.folder)) or root")
        }
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }
}
