/// An ECDSA signature (r, s), convertible between the raw `r ‖ s` form (what OP-TEE's image
/// format and GP use) and ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`.
///
/// Both parsers accept only the exact canonical encoding: raw is exactly twice the curve size;
/// DER is minimal (short-form lengths where they fit, no superfluous leading zero, no negative
/// integers, no trailing bytes). mbedTLS's own DER reader is more lenient; we never use it.
public struct ECDSASignature: Sendable, Hashable {
    public let curve: ECCurve
    /// Big-endian, exactly `curve.byteCount` bytes.
    public let r: [UInt8]
    /// Big-endian, exactly `curve.byteCount` bytes.
    public let s: [UInt8]

    init(unchecked curve: ECCurve, r: [UInt8], s: [UInt8]) {
        self.curve = curve
        self.r = r
        self.s = s
    }

    /// From big-endian integers of at most the curve size (leading zeros allowed).
    public init(curve: ECCurve, r: [UInt8], s: [UInt8]) throws {
        guard let pr = leftPadded(r, to: curve.byteCount), let ps = leftPadded(s, to: curve.byteCount) else {
            throw CryptoError(.malformedSignature, "\(curve.rawValue) signature integers are at most \(curve.byteCount) bytes")
        }
        self.init(unchecked: curve, r: pr, s: ps)
    }

    /// From `r ‖ s`, exactly `2 × curve.byteCount` bytes.
    public init(rawRepresentation raw: some Collection<UInt8>, curve: ECCurve) throws {
        let bytes = Array(raw)
        guard bytes.count == 2 * curve.byteCount else {
            throw CryptoError(.malformedSignature, "a raw \(curve.rawValue) signature is \(2 * curve.byteCount) bytes, not \(bytes.count)")
        }
        self.init(unchecked: curve, r: Array(bytes[..<curve.byteCount]), s: Array(bytes[curve.byteCount...]))
    }

    /// From strict DER.
    public init(derRepresentation der: some Collection<UInt8>, curve: ECCurve) throws {
        var reader = DERReader(Array(der))
        let sequence = try reader.readElement(tag: 0x30, what: "SEQUENCE")
        guard reader.isAtEnd else { throw Self.malformed("trailing bytes after the SEQUENCE") }
        var inner = DERReader(sequence)
        let r = try inner.readPositiveInteger(what: "r")
        let s = try inner.readPositiveInteger(what: "s")
        guard inner.isAtEnd else { throw Self.malformed("trailing bytes inside the SEQUENCE") }
        try self.init(curve: curve, r: r, s: s)
    }

    public var rawRepresentation: [UInt8] { r + s }

    public var derRepresentation: [UInt8] {
        let body = Self.derInteger(r) + Self.derInteger(s)
        return [0x30] + Self.derLength(body.count) + body
    }

    private static func derInteger(_ value: [UInt8]) -> [UInt8] {
        var content = Array(value.drop { $0 == 0 })
        if content.isEmpty { content = [0] }
        if content[0] & 0x80 != 0 { content.insert(0, at: 0) }
        return [0x02] + derLength(content.count) + content
    }

    private static func derLength(_ length: Int) -> [UInt8] {
        length < 0x80 ? [UInt8(length)] : [0x81, UInt8(length)]
    }

    static func malformed(_ why: String) -> CryptoError {
        CryptoError(.malformedSignature, "ECDSA DER signature: \(why)")
    }
}

/// A minimal strict DER reader for the two-INTEGER SEQUENCE of an ECDSA signature.
struct DERReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func readElement(tag: UInt8, what: String) throws -> [UInt8] {
        // Attacker-controlled: the tag byte.
        guard position < bytes.count else { throw ECDSASignature.malformed("\(what) missing") }
        guard bytes[position] == tag else { throw ECDSASignature.malformed("expected \(what)") }
        position += 1
        // Attacker-controlled: the length octets. Only definite, minimal lengths up to 255.
        guard position < bytes.count else { throw ECDSASignature.malformed("\(what) length missing") }
        let first = bytes[position]
        position += 1
        let length: Int
        if first < 0x80 {
            length = Int(first)
        } else if first == 0x81 {
            guard position < bytes.count else { throw ECDSASignature.malformed("\(what) length truncated") }
            length = Int(bytes[position])
            position += 1
            guard length >= 0x80 else { throw ECDSASignature.malformed("\(what) length not minimal") }
        } else {
            throw ECDSASignature.malformed("\(what) length form not allowed")
        }
        // Attacker-controlled: length vs. what remains; subtraction cannot wrap (position ≤ count).
        guard length <= bytes.count - position else { throw ECDSASignature.malformed("\(what) runs past the end") }
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }

    mutating func readPositiveInteger(what: String) throws -> [UInt8] {
        let content = try readElement(tag: 0x02, what: "INTEGER \(what)")
        guard let first = content.first else { throw ECDSASignature.malformed("INTEGER \(what) is empty") }
        guard first & 0x80 == 0 else { throw ECDSASignature.malformed("INTEGER \(what) is negative") }
        if first == 0 && content.count > 1 {
            guard content[1] & 0x80 != 0 else { throw ECDSASignature.malformed("INTEGER \(what) has a superfluous leading zero") }
        }
        return content
    }
}
