#if canImport(Glibc)
import Glibc
#endif
import TEECore

/// Who is at the other end of a connection, as the operating system (not the client) says:
/// in daemon mode the socket's peer credentials; in embedded mode whatever the process that
/// assembles the world decides. `kernel` marks the normal-world kernel (Linux's in-kernel TEE
/// clients, such as `remoteproc_tee`): only such a peer may open a session with login
/// REE_KERNEL, as only kernel code can through Linux's TEE driver.
public struct PeerCredentials: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public var kernel: Bool
    /// Supplementary groups (GROUP logins check membership against them and `gid`).
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, pid: Int32, kernel: Bool = false, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.kernel = kernel
        self.groups = groups
    }

    /// This process as an ordinary user-space client.
    public static var currentProcess: PeerCredentials {
        var groups = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(groups.count), &groups)
        return PeerCredentials(uid: UInt32(geteuid()), gid: UInt32(getegid()), pid: getpid(), groups: n > 0 ? groups.prefix(Int(n)).map { UInt32($0) } : [])
    }

    /// The supplementary groups of process `pid` as /proc says (the daemon's view of a peer;
    /// read at connection time, like SO_PEERCRED's own snapshot).
    public static func groups(ofProcess pid: Int32) -> [UInt32] {
        let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return [] }
        return line.dropFirst(7).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    }

    /// This process acting as the normal-world kernel (it drives the remoteproc TA as Linux does).
    public static var kernel: PeerCredentials {
        PeerCredentials(uid: 0, gid: 0, pid: 0, kernel: true)
    }
}

/// The shared-memory regions one client connection has made known to the secure world, by id,
/// and who that client is. Id 0 is never used: on the wire it stands for a NULL memory reference.
public final class MemoryTable: Sendable {
    public struct Entry: Sendable {
        public let region: any SharedByteBuffer
        /// `TEEC_MEM_INPUT` (1) and/or `TEEC_MEM_OUTPUT` (2).
        public let flags: UInt32
    }

    private let entries = Locked<[UInt32: Entry]>([:])
    private let nextID = Locked<UInt32>(1)

    /// The peer of this connection (fixed for its life).
    public let peer: PeerCredentials

    public init(peer: PeerCredentials = .currentProcess) {
        self.peer = peer
    }

    /// Adds a region under a fresh id.
    public func add(_ region: any SharedByteBuffer, flags: UInt32) -> UInt32 {
        let id = nextID.withLock { id -> UInt32 in
            defer { id = id == .max ? 1 : id + 1 }
            return id
        }
        entries.withLock { $0[id] = Entry(region: region, flags: flags) }
        return id
    }

    public func lookup(_ id: UInt32) -> Entry? { entries.withLock { $0[id] } }

    @discardableResult
    public func remove(_ id: UInt32) -> Entry? { entries.withLock { $0.removeValue(forKey: id) } }

    public var count: Int { entries.withLock { $0.count } }

    /// Forgets every region (the connection is gone).
    public func removeAll() { entries.withLock { $0 = [:] } }
}
