import TEECore

/// The control protocol on the daemon's Unix socket (SOCK_SEQPACKET: one message per record,
/// descriptors alongside with SCM_RIGHTS). Requests are exactly 24 bytes, replies exactly 20,
/// little-endian; bulk data and TEEWire frames never travel here (they go through shared memory).
///
/// ```
/// request: u32 magic "RTEC", u16 version (1), u16 kind, u32 seq, u32 arg, u64 size
/// reply:   u32 magic "RTEC", u16 version (1), u16 kind | 0x8000, u32 seq, u32 result, u32 value
/// ```
/// Kinds: 1 HELLO (reply value: the channel frame capacity); 2 ADD_REGION (arg: flags, size:
/// bytes, with a sealed memfd; value: the region id); 3 REMOVE_REGION (arg: id); 4 OPEN_CHANNEL
/// (size: bytes, with a sealed memfd; value: channel id); 5 CLOSE_CHANNEL (arg: id).
public struct ControlMessage: Hashable, Sendable {
    public static let magic: UInt32 = 0x4345_5452   // "RTEC"
    public static let version: UInt16 = 1
    public static let requestSize = 24
    public static let replySize = 20

    public enum Kind: UInt16, Sendable {
        case hello = 1, addRegion = 2, removeRegion = 3, openChannel = 4, closeChannel = 5
    }

    public var kind: Kind
    public var seq: UInt32
    public var arg: UInt32
    public var size: UInt64

    public init(kind: Kind, seq: UInt32, arg: UInt32 = 0, size: UInt64 = 0) {
        self.kind = kind
        self.seq = seq
        self.arg = arg
        self.size = size
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.requestSize)
        le(&out, Self.magic)
        le16(&out, Self.version)
        le16(&out, kind.rawValue)
        le(&out, seq)
        le(&out, arg)
        le(&out, UInt32(truncatingIfNeeded: size))
        le(&out, UInt32(truncatingIfNeeded: size >> 32))
        return out
    }

    /// Attacker: the peer. Exactly 24 bytes, the magic, our version, a known kind.
    public init(decoding bytes: [UInt8]) throws(TransportError) {
        guard bytes.count == Self.requestSize else { throw TransportError(.badMessage, "a control request is \(Self.requestSize) bytes, not \(bytes.count)") }
        guard read32(bytes, 0) == Self.magic else { throw TransportError(.badMessage, "bad control magic") }
        guard read16(bytes, 4) == Self.version else { throw TransportError(.badMessage, "control protocol version \(read16(bytes, 4)) is not \(Self.version)") }
        guard let kind = Kind(rawValue: read16(bytes, 6)) else { throw TransportError(.badMessage, "unknown control kind \(read16(bytes, 6))") }
        self.kind = kind
        seq = read32(bytes, 8)
        arg = read32(bytes, 12)
        size = UInt64(read32(bytes, 16)) | UInt64(read32(bytes, 20)) << 32
    }

    public struct Reply: Hashable, Sendable {
        public var kind: Kind
        public var seq: UInt32
        public var result: TEEResult
        public var value: UInt32

        public init(kind: Kind, seq: UInt32, result: TEEResult, value: UInt32 = 0) {
            self.kind = kind
            self.seq = seq
            self.result = result
            self.value = value
        }

        public var encoded: [UInt8] {
            var out: [UInt8] = []
            le(&out, ControlMessage.magic)
            le16(&out, ControlMessage.version)
            le16(&out, kind.rawValue | 0x8000)
            le(&out, seq)
            le(&out, result.rawValue)
            le(&out, value)
            return out
        }

        public init(decoding bytes: [UInt8]) throws(TransportError) {
            guard bytes.count == ControlMessage.replySize, read32(bytes, 0) == ControlMessage.magic, read16(bytes, 4) == ControlMessage.version,
                  read16(bytes, 6) & 0x8000 != 0, let kind = Kind(rawValue: read16(bytes, 6) & 0x7FFF) else {
                throw TransportError(.badMessage, "malformed control reply")
            }
            self.kind = kind
            seq = read32(bytes, 8)
            result = TEEResult(rawValue: read32(bytes, 12))
            value = read32(bytes, 16)
        }
    }
}

private func le(_ out: inout [UInt8], _ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
private func le16(_ out: inout [UInt8], _ v: UInt16) { out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8)) }
private func read32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24 }
private func read16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
