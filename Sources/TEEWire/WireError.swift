import TEECore

/// A frame the decoder refuses: code, reason, byte offset in the frame, where raised.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let truncated = Code(rawValue: "truncated")
        public static let tooLarge = Code(rawValue: "tooLarge")
        public static let badMagic = Code(rawValue: "badMagic")
        public static let unsupportedVersion = Code(rawValue: "unsupportedVersion")
        public static let unknownKind = Code(rawValue: "unknownKind")
        public static let badLength = Code(rawValue: "badLength")
        public static let reservedNotZero = Code(rawValue: "reservedNotZero")
        public static let badParamType = Code(rawValue: "badParamType")
        public static let badParameter = Code(rawValue: "badParameter")
        public static let badValue = Code(rawValue: "badValue")
    }

    public let code: Code
    public let reason: String
    public let offset: Int?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, offset: Int? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.offset = offset
        self.file = file
        self.line = line
    }

    public static func == (l: WireError, r: WireError) -> Bool { l.code == r.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
    public var description: String { "\(offset.map { "offset \($0): " } ?? "")\(code): \(reason)" }

    /// How a refused frame is answered: the transport could not carry it.
    public var result: TEEResult { .communication }
}
