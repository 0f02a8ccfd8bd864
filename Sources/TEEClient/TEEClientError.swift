@_exported import TEECore

/// A failed client call: the GP result and where it came from (API for checks made by this
/// library, COMMS for the transport, TEE for the secure world, TRUSTED_APP for the TA).
public struct TEEClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public let result: TEEResult
    public let origin: ReturnOrigin
    /// What went wrong in words, where this library knows more than the result says (why a
    /// daemon could not be reached or was not trusted). Not part of equality.
    public let reason: String?

    public init(_ result: TEEResult, origin: ReturnOrigin, reason: String? = nil) {
        self.result = result
        self.origin = origin
        self.reason = reason
    }

    public static func == (l: TEEClientError, r: TEEClientError) -> Bool { l.result == r.result && l.origin == r.origin }
    public func hash(into h: inout Hasher) {
        h.combine(result)
        h.combine(origin)
    }

    public var description: String { "\(result), origin \(origin)" + (reason.map { ": \($0)" } ?? "") }
}
