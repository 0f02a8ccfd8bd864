@_exported import TEECore

/// A failed client call: the GP result and where it came from (API for checks made by this
/// library, COMMS for the transport, TEE for the secure world, TRUSTED_APP for the TA).
public struct TEEClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public let result: TEEResult
    public let origin: ReturnOrigin

    public init(_ result: TEEResult, origin: ReturnOrigin) {
        self.result = result
        self.origin = origin
    }

    public var description: String { "\(result), origin \(origin)" }
}
