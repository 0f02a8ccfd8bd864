/// The type of one operation parameter, one nibble of the packed `paramTypes` word.
///
/// The values 0x0–0x7 are shared by client and TA. 0xC–0xF are the client's references to
/// registered shared memory (`TEEC_MEMREF_WHOLE` / `_PARTIAL_*`); the TEE turns them into
/// MEMREF_INPUT/OUTPUT/INOUT before a TA sees them. 0x4 and 0x8–0xB are undefined.
public struct ParamType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8

    /// Returns nil for a nibble GP does not define.
    public init?(rawValue: UInt8) {
        switch rawValue {
        case 0x0...0x3, 0x5...0x7, 0xC...0xF: self.rawValue = rawValue
        default: return nil
        }
    }

    @usableFromInline init(known: UInt8) { self.rawValue = known }

    public static let none = ParamType(known: 0x0)
    public static let valueInput = ParamType(known: 0x1)
    public static let valueOutput = ParamType(known: 0x2)
    public static let valueInout = ParamType(known: 0x3)
    /// TA side: MEMREF_INPUT. Client side: MEMREF_TEMP_INPUT.
    public static let memrefInput = ParamType(known: 0x5)
    /// TA side: MEMREF_OUTPUT. Client side: MEMREF_TEMP_OUTPUT.
    public static let memrefOutput = ParamType(known: 0x6)
    /// TA side: MEMREF_INOUT. Client side: MEMREF_TEMP_INOUT.
    public static let memrefInout = ParamType(known: 0x7)
    public static let memrefWhole = ParamType(known: 0xC)
    public static let memrefPartialInput = ParamType(known: 0xD)
    public static let memrefPartialOutput = ParamType(known: 0xE)
    public static let memrefPartialInout = ParamType(known: 0xF)

    @inlinable public var isValue: Bool { rawValue >= 0x1 && rawValue <= 0x3 }
    @inlinable public var isMemref: Bool { rawValue >= 0x5 }
    /// A reference to registered shared memory (client side only).
    public var isRegisteredMemref: Bool { rawValue >= 0xC }
    /// Whether a TA may be given this type (0x0–0x3, 0x5–0x7).
    @inlinable public var isTAType: Bool { rawValue <= 0x7 }
    /// Data flows from client to TA. Meaningless for MEMREF_WHOLE, whose direction comes
    /// from the shared memory's flags.
    @inlinable public var isInput: Bool { (0b1010_0000_1010_1010 as UInt16) >> rawValue & 1 != 0 }   // 0x1, 0x3, 0x5, 0x7, 0xD, 0xF
    /// Data flows from TA to client. Meaningless for MEMREF_WHOLE (see `isInput`).
    @inlinable public var isOutput: Bool { (0b1100_0000_1100_1100 as UInt16) >> rawValue & 1 != 0 }   // 0x2, 0x3, 0x6, 0x7, 0xE, 0xF

    public var name: String {
        switch rawValue {
        case 0x0: "NONE"
        case 0x1: "VALUE_INPUT"
        case 0x2: "VALUE_OUTPUT"
        case 0x3: "VALUE_INOUT"
        case 0x5: "MEMREF_INPUT"
        case 0x6: "MEMREF_OUTPUT"
        case 0x7: "MEMREF_INOUT"
        case 0xC: "MEMREF_WHOLE"
        case 0xD: "MEMREF_PARTIAL_INPUT"
        case 0xE: "MEMREF_PARTIAL_OUTPUT"
        default: "MEMREF_PARTIAL_INOUT"
        }
    }
}

extension ParamType: CustomStringConvertible {
    public var description: String { name }
}
