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
    }

    public let code: Code
    public let reason: String
    public let path: String

    public init(_ code: Code, _ reason: String, path: String) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    public static func == (l: PlatformError, r: PlatformError) -> Bool { l.code == r.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
    public var description: String { "\(path.isEmpty ? "(root)" : path): \(code.rawValue): \(reason)" }
}

/// Reads a JSON object strictly: every key must be known, every value of the expected type;
/// errors carry the JSON path.
struct StrictObject {
    let values: [String: Any]
    let path: String
    private var used: Set<String> = []

    init(_ any: Any, path: String) throws(PlatformError) {
        guard let dict = any as? [String: Any] else { throw PlatformError(.wrongType, "expected an object", path: path) }
        values = dict
        self.path = path
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) throws(PlatformError) -> Any {
        used.insert(key)
        guard let v = values[key] else { throw PlatformError(.missingKey, "\"\(key)\" is required", path: sub(key)) }
        return v
    }

    mutating func optionalRaw(_ key: String) -> Any? {
        used.insert(key)
        return values[key]
    }

    mutating func string(_ key: String) throws(PlatformError) -> String {
        guard let s = try raw(key) as? String else { throw PlatformError(.wrongType, "expected a string", path: sub(key)) }
        return s
    }

    mutating func optionalString(_ key: String) throws(PlatformError) -> String? {
        guard let v = optionalRaw(key) else { return nil }
        guard let s = v as? String else { throw PlatformError(.wrongType, "expected a string", path: sub(key)) }
        return s
    }

    mutating func bool(_ key: String, default value: Bool) throws(PlatformError) -> Bool {
        guard let v = optionalRaw(key) else { return value }
        guard let b = v as? Bool else { throw PlatformError(.wrongType, "expected true or false", path: sub(key)) }
        return b
    }

    /// A number written as a JSON integer or a "0x…" string; must fit in 32 bits.
    mutating func u32(_ key: String) throws(PlatformError) -> UInt32 {
        try Self.u32(try raw(key), path: sub(key))
    }

    static func u32(_ v: Any, path: String) throws(PlatformError) -> UInt32 {
        if let s = v as? String {
            let lower = s.lowercased()
            let value = lower.hasPrefix("0x") ? UInt32(lower.dropFirst(2), radix: 16) : UInt32(lower)
            guard let value else { throw PlatformError(.badValue, "\"\(s)\" is not a 32-bit number", path: path) }
            return value
        }
        if let n = v as? Int, let value = UInt32(exactly: n) { return value }
        throw PlatformError(.wrongType, "expected a 32-bit number (integer or \"0x…\" string)", path: path)
    }

    mutating func array(_ key: String) throws(PlatformError) -> [Any] {
        guard let a = try raw(key) as? [Any] else { throw PlatformError(.wrongType, "expected an array", path: sub(key)) }
        return a
    }

    mutating func optionalArray(_ key: String) throws(PlatformError) -> [Any]? {
        guard let v = optionalRaw(key) else { return nil }
        guard let a = v as? [Any] else { throw PlatformError(.wrongType, "expected an array", path: sub(key)) }
        return a
    }

    /// After reading: any key not read is unknown.
    func finish() throws(PlatformError) {
        if let extra = values.keys.sorted().first(where: { !used.contains($0) }) {
            throw PlatformError(.unknownKey, "unknown key \"\(extra)\" (known: \(used.sorted().joined(separator: ", ")))", path: sub(extra))
        }
    }
}
