/// Where a result was produced (`TEEC_ORIGIN_*`): the client library, the transport, the TEE
/// itself, or the trusted application. A client needs it to tell "the TA said no" from
/// "the TA could not be reached".
public struct ReturnOrigin: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let api = ReturnOrigin(rawValue: 1)
    public static let comms = ReturnOrigin(rawValue: 2)
    public static let tee = ReturnOrigin(rawValue: 3)
    public static let trustedApp = ReturnOrigin(rawValue: 4)

    public var name: String? {
        switch self {
        case .api: "API"
        case .comms: "COMMS"
        case .tee: "TEE"
        case .trustedApp: "TRUSTED_APP"
        default: nil
        }
    }
}

extension ReturnOrigin: CustomStringConvertible {
    public var description: String { name ?? "origin \(rawValue)" }
}
