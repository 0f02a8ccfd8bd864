/// A platform file that cannot be used: what is wrong and where (a JSON path such as
/// `coprocessors[0].regions[2].size`).
public struct PlatformError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let malformedJSON = Code(rawValue: "malformedJSON")
        public static let unknownKey = Code(rawValue: "unknownKey")
        public static let missingKey = Code(rawValue: "missingKey")
        public static let wrongType = Code(rawValue: "wrongType")
        public static let badValue = Code(rawValue: "badValue")
        public static let overlappingRegions = Code(rawValue: "overlappingRegions")
        public static let badTranslation = Code(rawValue: "badTranslation")
        public static let unknownBoard = Code(rawValue: "unknownBoard")
        public static let duplicateKey = Code(rawValue: "duplicateKey")
        public static let tooLarge = Code(rawValue: "tooLarge")
    }

    public let code: Code
    public let reason: String
    public let path: String
    /// Where in the file the offending value (or key) starts, when the error is about one.
    public let position: JSONPosition?

    public init(_ code: Code, _ reason: String, path: String, at position: JSONPosition? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
        self.position = position
    }

    public static func == (l: PlatformError, r: PlatformError) -> Bool { l.code == r.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
    /// `line:column: path: code: reason` (the position first, as compilers print it).
    public var description: String {
        (position.map { "\($0): " } ?? "") + "\(path.isEmpty ? "(root)" : path): \(code.rawValue): \(reason)"
    }
}

/// Reads a JSON object strictly: every key must be known, every value of the expected type
/// (a boolean is not a number, a number is not a boolean, `65536.0` is not an integer); errors
/// carry the JSON path and the line and column.
struct StrictObject {
    let members: [String: JSONValue.Member]
    let order: [String]
    let path: String
    let position: JSONPosition
    private var used: Set<String> = []

    init(_ value: JSONValue, path: String, at position: JSONPosition) throws(PlatformError) {
        guard case .object(let list) = value else { throw PlatformError(.wrongType, "expected an object, found \(value.typeName)", path: path, at: position) }
        // StrictJSON has refused duplicate keys already.
        members = Dictionary(list.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        order = list.map(\.key)
        self.path = path
        self.position = position
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) throws(PlatformError) -> (JSONValue, JSONPosition) {
        used.insert(key)
        guard let m = members[key] else { throw PlatformError(.missingKey, "\"\(key)\" is required", path: sub(key), at: position) }
        return (m.value, m.position)
    }

    mutating func optionalRaw(_ key: String) -> (JSONValue, JSONPosition)? {
        used.insert(key)
        return members[key].map { ($0.value, $0.position) }
    }

    mutating func object(_ key: String) throws(PlatformError) -> StrictObject {
        let (v, at) = try raw(key)
        return try StrictObject(v, path: sub(key), at: at)
    }

    mutating func string(_ key: String) throws(PlatformError) -> String {
        let (v, at) = try raw(key)
        return try Self.string(v, path: sub(key), at: at)
    }

    static func string(_ v: JSONValue, path: String, at: JSONPosition) throws(PlatformError) -> String {
        guard case .string(let s) = v else { throw PlatformError(.wrongType, "expected a string, found \(v.typeName)", path: path, at: at) }
        return s
    }

    mutating func optionalString(_ key: String) throws(PlatformError) -> String? {
        guard let (v, at) = optionalRaw(key) else { return nil }
        return try Self.string(v, path: sub(key), at: at)
    }

    mutating func bool(_ key: String, default value: Bool) throws(PlatformError) -> Bool {
        guard let (v, at) = optionalRaw(key) else { return value }
        guard case .bool(let b) = v else { throw PlatformError(.wrongType, "expected true or false, found \(v.typeName)", path: sub(key), at: at) }
        return b
    }

    /// A number written as a JSON integer or a "0x…" string; must fit in 32 bits.
    mutating func u32(_ key: String) throws(PlatformError) -> UInt32 {
        let (v, at) = try raw(key)
        return try Self.u32(v, path: sub(key), at: at)
    }

    static func u32(_ v: JSONValue, path: String, at: JSONPosition) throws(PlatformError) -> UInt32 {
        switch v {
        case .string(let s):
            let lower = s.lowercased()
            let value = lower.hasPrefix("0x") ? UInt32(lower.dropFirst(2), radix: 16) : UInt32(lower)
            guard let value, !lower.contains("+"), !lower.contains("-") else { throw PlatformError(.badValue, "\"\(s)\" is not a 32-bit number", path: path, at: at) }
            return value
        case .integer(let digits):
            guard let value = UInt32(digits) else { throw PlatformError(.badValue, "\(digits) is not a 32-bit unsigned number", path: path, at: at) }
            return value
        default:
            throw PlatformError(.wrongType, "expected a 32-bit number (integer or \"0x…\" string), found \(v.typeName)", path: path, at: at)
        }
    }

    mutating func array(_ key: String) throws(PlatformError) -> [JSONValue.Element] {
        let (v, at) = try raw(key)
        guard case .array(let a) = v else { throw PlatformError(.wrongType, "expected an array, found \(v.typeName)", path: sub(key), at: at) }
        return a
    }

    mutating func optionalArray(_ key: String) throws(PlatformError) -> [JSONValue.Element]? {
        guard let (v, at) = optionalRaw(key) else { return nil }
        guard case .array(let a) = v else { throw PlatformError(.wrongType, "expected an array, found \(v.typeName)", path: sub(key), at: at) }
        return a
    }

    /// After reading: any key not read is unknown.
    func finish() throws(PlatformError) {
        if let extra = order.first(where: { !used.contains($0) }) {
            throw PlatformError(.unknownKey, "unknown key \"\(extra)\" (known: \(used.sorted().joined(separator: ", ")))", path: sub(extra), at: members[extra]?.keyPosition)
        }
    }
}
