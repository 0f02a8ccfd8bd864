/// How a client identified itself when opening a session (`TEEC_LOGIN_*` / `TEE_LOGIN_*`).
public struct Login: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let `public` = Login(rawValue: 0x0)
    public static let user = Login(rawValue: 0x1)
    public static let group = Login(rawValue: 0x2)
    public static let application = Login(rawValue: 0x4)
    public static let userApplication = Login(rawValue: 0x5)
    public static let groupApplication = Login(rawValue: 0x6)
    /// OP-TEE's login for requests from the Linux kernel (the remoteproc driver uses it).
    public static let reeKernel = Login(rawValue: 0x8000_0000)
    /// A session opened by another TA (TA-to-TA calls).
    public static let trustedApp = Login(rawValue: 0xF000_0000)

    public var name: String? {
        switch self {
        case .public: "PUBLIC"
        case .user: "USER"
        case .group: "GROUP"
        case .application: "APPLICATION"
        case .userApplication: "USER_APPLICATION"
        case .groupApplication: "GROUP_APPLICATION"
        case .reeKernel: "REE_KERNEL"
        case .trustedApp: "TRUSTED_APP"
        default: nil
        }
    }

    /// Whether a client may ask for this login method. TRUSTED_APP is set by the TEE for
    /// TA-to-TA sessions only; a normal-world client claiming it is refused.
    public var isClientLogin: Bool {
        switch self {
        case .public, .user, .group, .application, .userApplication, .groupApplication, .reeKernel: true
        default: false
        }
    }
}

extension Login: CustomStringConvertible {
    public var description: String { name ?? hex8(rawValue) }
}
