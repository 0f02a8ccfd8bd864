#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
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

    /// The peer's supplementary groups as the kernel captured them at connect() (SO_PEERGROUPS,
    /// Linux 4.13+), like SO_PEERCRED's own snapshot: not /proc/<pid>/status read afterwards,
    /// where the pid may have been reused by then (red-team L4). At most 65,536 groups.
    public static func groups(ofSocket fd: Int32) -> [UInt32] {
        var groups = [UInt32](repeating: 0, count: 64)
        while true {
            let n = cteep_peer_groups(fd, &groups, Int32(groups.count))
            if n >= 0 { return Array(groups.prefix(Int(n))) }
            // -(needed) when the buffer is too small.
            guard n < -1, -Int(n) <= 65536 else { return [] }
            groups = [UInt32](repeating: 0, count: -Int(n))
        }
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
