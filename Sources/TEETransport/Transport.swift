import TEECore

/// A failure of the transport itself (not of the TEE or a TA).
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let closed = Code(rawValue: "closed")
        public static let malformedReply = Code(rawValue: "malformedReply")
        public static let outOfMemory = Code(rawValue: "outOfMemory")
        /// The daemon could not be reached (no socket, refused, wrong protocol).
        public static let unreachable = Code(rawValue: "unreachable")
        /// A region descriptor from the peer that cannot be used (size, seals, count).
        public static let badRegion = Code(rawValue: "badRegion")
        /// A control message that breaks the protocol.
        public static let badMessage = Code(rawValue: "badMessage")
        /// The socket, its folder or the process serving it is not the trusted TEE's.
        public static let untrusted = Code(rawValue: "untrusted")
        /// The daemon exists but does not let this user connect (the socket's permissions).
        public static let denied = Code(rawValue: "denied")
        /// The daemon did not admit the connection (its limits for this user, or for all).
        public static let busy = Code(rawValue: "busy")
        /// The connection was made by this process's parent before a fork: the child must make
        /// its own (the parent's channels are shared memory both would write).
        public static let forked = Code(rawValue: "forked")
    }

    public let code: Code
    public let reason: String
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static func == (l: TransportError, r: TransportError) -> Bool { l.code == r.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
    public var description: String { "\(code.rawValue): \(reason)" }
}

/// What the secure world offers a connection: it takes an encoded request frame and answers
/// with an encoded response frame, resolving memory references through the connection's table.
public protocol SecureEndpoint: AnyObject, Sendable {
    func handle(_ frame: [UInt8], memory: MemoryTable) -> [UInt8]
    /// `handle`, writing the response into `reply` — a buffer the transport keeps for its
    /// channel, so that a call allocates no response frame.
    func handle(_ frame: [UInt8], memory: MemoryTable, into reply: inout [UInt8])
    /// The connection is gone: close its sessions, forget its memory.
    func disconnect(memory: MemoryTable)
    /// The connection is going: ask every call it still has in the secure world to cancel
    /// (its client will never read the answers).
    func cancelAll(memory: MemoryTable)
}

extension SecureEndpoint {
    public func cancelAll(memory: MemoryTable) {}
    public func handle(_ frame: [UInt8], memory: MemoryTable, into reply: inout [UInt8]) {
        reply = handle(frame, memory: memory)
    }
}

/// What the client library needs from a transport: send a frame, get its answer, and create
/// shared memory the secure world can reach by id.
public protocol ClientTransport: AnyObject, Sendable {
    func exchange(_ frame: [UInt8]) throws(TransportError) -> [UInt8]
    /// `exchange` of the frame `encode` writes into a buffer the transport provides (a
    /// channel's, reused from call to call: a call allocates no request frame).
    func exchange(encoding encode: (inout [UInt8]) -> Void) throws(TransportError) -> [UInt8]
    /// A new region of `count` bytes and the id under which the secure world will find it once
    /// a register-memory request names that id.
    func createRegion(count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer)
    /// A region over memory the caller already has in a memfd (`fd` is not taken over).
    func registerRegion(fileDescriptor fd: Int32, count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer)
    func releaseRegion(id: UInt32)
    func close()
}

/// The embedded transport: client and secure world in one process. Every request is still a
/// TEEWire frame, encoded and decoded exactly as across processes.
public final class InProcessTransport: ClientTransport {
    private let endpoint: any SecureEndpoint
    public let memory: MemoryTable

    /// - Parameter peer: who this connection's client is; the secure world grants the REE_KERNEL
    ///   login only to a kernel peer.
    public init(endpoint: any SecureEndpoint, peer: PeerCredentials = .currentProcess) {
        self.endpoint = endpoint
        memory = MemoryTable(peer: peer)
    }

    public func exchange(_ frame: [UInt8]) throws(TransportError) -> [UInt8] {
        endpoint.handle(frame, memory: memory)
    }

    public func createRegion(count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer) {
        let region = HeapRegion(count: count)
        return (memory.add(region, flags: flags), region)
    }

    public func registerRegion(fileDescriptor fd: Int32, count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer) {
        let region = try MappedRegion.mapCallers(fd: fd, count: count)
        return (memory.add(region, flags: flags), region)
    }

    public func releaseRegion(id: UInt32) {
        memory.remove(id)
    }

    public func close() {
        endpoint.disconnect(memory: memory)
    }
}

extension ClientTransport {
    public func exchange(encoding encode: (inout [UInt8]) -> Void) throws(TransportError) -> [UInt8] {
        var frame: [UInt8] = []
        encode(&frame)
        return try exchange(frame)
    }
}
