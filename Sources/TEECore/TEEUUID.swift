/// A GlobalPlatform UUID (`TEE_UUID` / `TEEC_UUID`), kept in the GP field layout.
///
/// The canonical text form is `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (RFC 4122): the first three
/// groups are `timeLow`, `timeMid` and `timeHiAndVersion`, the last two groups together are the
/// eight bytes of `clockSeqAndNode`. Parsing accepts upper and lower case; printing is lower case.
public struct TEEUUID: Hashable, Sendable, Comparable {
    public var timeLow: UInt32
    public var timeMid: UInt16
    public var timeHiAndVersion: UInt16
    /// `clockSeqAndNode[0...7]` packed big-endian: byte 0 is the most significant.
    private var clockSeqAndNodeWord: UInt64

    public init(timeLow: UInt32, timeMid: UInt16, timeHiAndVersion: UInt16, clockSeqAndNode: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self.timeLow = timeLow
        self.timeMid = timeMid
        self.timeHiAndVersion = timeHiAndVersion
        let c = clockSeqAndNode
        self.clockSeqAndNodeWord = [c.0, c.1, c.2, c.3, c.4, c.5, c.6, c.7].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Builds a UUID from its 16 octets in RFC 4122 (network) order, as OP-TEE's
    /// `tee_uuid_from_octets` does. Returns nil unless exactly 16 bytes are given.
    public init?(octets: some Collection<UInt8>) {
        guard let uuid = octets.withContiguousStorageIfAvailable({ TEEUUID(octets: $0) }) ?? TEEUUID(bytes: Array(octets)) else { return nil }
        self = uuid
    }

    /// The same for an array: every decoder of a frame calls this once per UUID, so it is not
    /// generic (a generic call across modules runs unspecialized, ≈ 1 µs a UUID in a TA host).
    public init?(octets: [UInt8]) {
        guard let uuid = octets.withUnsafeBufferPointer({ TEEUUID(octets: $0) }) else { return nil }
        self = uuid
    }

    /// The same for bytes in place (a decoder's frame).
    public init?(octets b: UnsafeBufferPointer<UInt8>) {
        guard b.count == 16 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(b[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(b[i]) }
        self.timeLow = UInt32(truncatingIfNeeded: high >> 32)
        self.timeMid = UInt16(truncatingIfNeeded: high >> 16)
        self.timeHiAndVersion = UInt16(truncatingIfNeeded: high)
        self.clockSeqAndNodeWord = low
    }

    private init?(bytes array: [UInt8]) {
        guard let uuid = array.withUnsafeBufferPointer({ TEEUUID(octets: $0) }) else { return nil }
        self = uuid
    }

    /// Parses the canonical 36-character form. Returns nil for anything else (no braces, no
    /// `urn:uuid:` prefix, no missing dashes): UUIDs name TAs, and a lenient parser would let two
    /// spellings name one TA.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var octets: [UInt8] = []
        octets.reserveCapacity(16)
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard utf8[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let hi = Self.hexValue(utf8[i]), let lo = Self.hexValue(utf8[i + 1]) else { return nil }
            octets.append(hi << 4 | lo)
            i += 2
        }
        self.init(octets: octets)
    }

    /// The eight `clockSeqAndNode` bytes in GP order.
    public var clockSeqAndNode: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: clockSeqAndNodeWord >> (56 - 8 * UInt64($0))) }
    }

    /// The 16 octets in RFC 4122 order (OP-TEE's `tee_uuid_to_octets`).
    public var octets: [UInt8] {
        let high = UInt64(timeLow) << 32 | UInt64(timeMid) << 16 | UInt64(timeHiAndVersion)
        let low = clockSeqAndNodeWord
        return [UInt8](unsafeUninitializedCapacity: 16) { out, count in
            for i in 0..<8 {
                out[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
                out[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))
            }
            count = 16
        }
    }

    /// The nil UUID (all zero), which GP uses for "no identity" (a PUBLIC login).
    public static let zero = TEEUUID(octets: [UInt8](repeating: 0, count: 16))!

    public static func < (lhs: TEEUUID, rhs: TEEUUID) -> Bool { lhs.octets.lexicographicallyPrecedes(rhs.octets) }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension TEEUUID: CustomStringConvertible, LosslessStringConvertible {
    /// RFC 4122's text form, lowercase. Built from ASCII bytes: the `Character`-based version it
    /// replaces cost ≈ 0.25 ms on its first use in a process (every TA host's, on a native TA's
    /// cold OpenSession).
    public var description: String {
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (i, byte) in octets.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(Self.hexDigit(byte >> 4))
            text.append(Self.hexDigit(byte & 0xF))
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }
}

extension TEEUUID: ExpressibleByStringLiteral {
    /// For UUID constants written in source (a TA's identity). A malformed literal is a bug in
    /// our own code and traps at first use.
    public init(stringLiteral value: StaticString) {
        guard let uuid = TEEUUID(value.description) else {
            preconditionFailure("malformed TEEUUID literal \"\(value)\"")
        }
        self = uuid
    }
}

extension TEEUUID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let uuid = TEEUUID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a canonical UUID: \"\(text)\"")
        }
        self = uuid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
