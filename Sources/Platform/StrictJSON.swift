/// A JSON value with the line and column where it starts, as a strict reader needs it: integers
/// kept apart from fractions and exponents, booleans apart from numbers, object members in
/// file order with their key positions. Built by `StrictJSON.parse`, which refuses duplicate
/// keys instead of letting the last one win.
indirect enum JSONValue: Sendable {
    case object([Member])
    case array([Element])
    case string(String)
    /// A number written without fraction or exponent, as its digits (with a leading "-").
    case integer(String)
    /// A number with a fraction or an exponent (`65536.0`, `1e3`): never an integer here.
    case fraction(String)
    case bool(Bool)
    case null

    struct Element: Sendable {
        let value: JSONValue
        let position: JSONPosition
    }

    struct Member: Sendable {
        let key: String
        let keyPosition: JSONPosition
        let value: JSONValue
        let position: JSONPosition
    }

    var typeName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .integer: "an integer"
        case .fraction: "a number with a fraction or exponent"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// 1-based line and column (in bytes) of a place in a JSON text.
public struct JSONPosition: Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A strict, bounded JSON reader (RFC 8259): UTF-8 only, no comments, no trailing commas, no
/// duplicate keys, at most `maxDepth` levels and `maxBytes` bytes. Every error names the line
/// and column.
struct StrictJSON {
    static let maxDepth = 32
    static let maxBytes = 1 << 20

    struct Failure: Error {
        let reason: String
        let position: JSONPosition
        var duplicateKey = false
        /// The JSON path of the object holding a duplicate key.
        var path = ""
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    static func parse(_ bytes: [UInt8]) throws(Failure) -> (JSONValue, JSONPosition) {
        // Attacker: whoever wrote the board file. Size and depth are bounded before anything else.
        guard bytes.count <= maxBytes else {
            throw Failure(reason: "the file is \(bytes.count) bytes; a board file is at most \(maxBytes) bytes", position: JSONPosition(line: 1, column: 1))
        }
        var parser = StrictJSON(bytes: bytes)
        parser.skipSpace()
        let position = parser.position
        let value = try parser.value(depth: 0, path: "")
        parser.skipSpace()
        guard parser.index == bytes.count else { throw Failure(reason: "unexpected text after the JSON value", position: parser.position) }
        return (value, position)
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var position: JSONPosition { JSONPosition(line: line, column: index - lineStart + 1) }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason, position: position) }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    private mutating func expect(_ literal: String) throws(Failure) {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw fail("expected \"\(literal)\"") }
            index += 1
        }
    }

    private mutating func value(depth: Int, path: String) throws(Failure) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) levels deep") }
        guard index < bytes.count else { throw fail("unexpected end of the file") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth, path: path)
        case UInt8(ascii: "["): return try array(depth: depth, path: path)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character \(Self.show(bytes[index]))")
        }
    }

    private mutating func object(depth: Int, path: String) throws(Failure) -> JSONValue {
        index += 1
        var members: [JSONValue.Member] = []
        var seen = Set<String>()
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([])
        }
        while true {
            skipSpace()
            let keyPosition = position
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key in quotes") }
            let key = try string()
            guard seen.insert(key).inserted else {
                throw Failure(reason: "duplicate key \"\(key)\" (a JSON object names each key once)", position: keyPosition, duplicateKey: true, path: path.isEmpty ? key : "\(path).\(key)")
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected \":\" after the key") }
            index += 1
            skipSpace()
            let valuePosition = position
            let value = try value(depth: depth + 1, path: path.isEmpty ? key : "\(path).\(key)")
            members.append(JSONValue.Member(key: key, keyPosition: keyPosition, value: value, position: valuePosition))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of the file inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected \",\" or \"}\"") }
            index += 1
            return .object(members)
        }
    }

    private mutating func array(depth: Int, path: String) throws(Failure) -> JSONValue {
        index += 1
        var elements: [JSONValue.Element] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        while true {
            skipSpace()
            let elementPosition = position
            elements.append(JSONValue.Element(value: try value(depth: depth + 1, path: "\(path)[\(elements.count)]"), position: elementPosition))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of the file inside an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected \",\" or \"]\"") }
            index += 1
            return .array(elements)
        }
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw fail("the string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw fail("a high surrogate must be followed by a low one") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a high surrogate must be followed by a low one") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let s = Unicode.Scalar(scalar) else { throw fail("\\u escape is not a Unicode scalar") }
                    out.append(contentsOf: Array(String(Character(s)).utf8))
                default: throw fail("unknown escape \\\(Self.show(escape))")
                }
            case 0x00..<0x20:
                throw fail("control character \(Self.show(byte)) inside a string (escape it)")
            default:
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
            throw fail("\\u needs four hex digits")
        }
        index += 4
        return v
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > digitsStart else { throw fail("a number needs digits") }
        guard !(bytes[digitsStart] == UInt8(ascii: "0") && index - digitsStart > 1) else { throw fail("a number may not have leading zeros") }
        var fractional = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            fractional = true
            index += 1
            let f = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > f else { throw fail("a fraction needs digits") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            fractional = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let e = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > e else { throw fail("an exponent needs digits") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        return fractional ? .fraction(text) : .integer(text)
    }

    static func show(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}
