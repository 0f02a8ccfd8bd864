/// The four parameter types of an operation packed into one word, as
/// `TEE_PARAM_TYPES(p0, p1, p2, p3) = p0 | p1 << 4 | p2 << 8 | p3 << 12`.
///
/// A TA compares the packed value with the one it expects before touching any parameter;
/// equality here is exactly that comparison.
public struct ParamTypes: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32

    /// Validates a packed word received from outside: the upper 16 bits must be zero and every
    /// nibble must be a defined type. Returns nil otherwise.
    public init?(rawValue: UInt32) {
        guard rawValue >> 16 == 0 else { return nil }
        for index in 0..<4 {
            guard ParamType(rawValue: UInt8((rawValue >> (4 * UInt32(index))) & 0xF)) != nil else { return nil }
        }
        self.rawValue = rawValue
    }

    @inlinable public init(_ p0: ParamType = .none, _ p1: ParamType = .none, _ p2: ParamType = .none, _ p3: ParamType = .none) {
        rawValue = UInt32(p0.rawValue) | UInt32(p1.rawValue) << 4 | UInt32(p2.rawValue) << 8 | UInt32(p3.rawValue) << 12
    }

    public init(_ types: [ParamType]) {
        precondition(types.count <= 4, "an operation has four parameters")
        var raw: UInt32 = 0
        for (i, t) in types.enumerated() { raw |= UInt32(t.rawValue) << (4 * UInt32(i)) }
        rawValue = raw
    }

    /// `TEE_PARAM_TYPE_GET(t, i)`.
    @inlinable public subscript(index: Int) -> ParamType {
        precondition(index >= 0 && index < 4, "parameter index \(index) out of 0..<4")
        // Every nibble was validated on construction.
        return ParamType(known: UInt8(truncatingIfNeeded: rawValue >> (4 * UInt32(index))) & 0xF)
    }

    public var types: [ParamType] { (0..<4).map { self[$0] } }

    /// All four types are ones a TA may receive (no registered-memory references).
    @inlinable public var isTAView: Bool { self[0].isTAType && self[1].isTAType && self[2].isTAType && self[3].isTAType }

    public static let none = ParamTypes()
}

extension ParamTypes: CustomStringConvertible {
    /// `0x0051 (VALUE_INPUT, MEMREF_INPUT, NONE, NONE)`.
    public var description: String {
        let digits = String(rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            + " (" + types.map(\.name).joined(separator: ", ") + ")"
    }
}
