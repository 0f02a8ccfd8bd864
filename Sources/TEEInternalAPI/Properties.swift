/// A property value as GP types them.
public enum PropertyValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case u32(UInt32)
    case u64(UInt64)
    case binary([UInt8])
    case uuid(TEEUUID)
    case identity(login: Login, uuid: TEEUUID)

    /// GP's `TEE_GetPropertyAsString` text for any value.
    public var stringValue: String {
        switch self {
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .u32(let v): String(v)
        case .u64(let v): String(v)
        case .binary(let bytes): base64(bytes)
        case .uuid(let u): u.description
        case .identity(let login, let uuid): "\(String(login.rawValue, radix: 16)):\(uuid)"
        }
    }
}

/// GP's property sets (`TEE_PROPSET_*`).
public enum PropertySet: Sendable, Hashable, CaseIterable {
    case currentTA, currentClient, implementation
}

/// Typed property access in GP's terms: a name not in the set is ITEM_NOT_FOUND, a value that
/// cannot be read as the asked type is BAD_FORMAT.
public struct PropertyReader: Sendable {
    let values: [String: PropertyValue]

    public init(_ values: [String: PropertyValue]) { self.values = values }

    public func value(_ name: String) throws(TEEResult) -> PropertyValue {
        guard let v = values[name] else { throw .itemNotFound }
        return v
    }

    public func string(_ name: String) throws(TEEResult) -> String { try value(name).stringValue }

    public func bool(_ name: String) throws(TEEResult) -> Bool {
        switch try value(name) {
        case .bool(let b): return b
        case .string("true"): return true
        case .string("false"): return false
        default: throw .badFormat
        }
    }

    public func u32(_ name: String) throws(TEEResult) -> UInt32 {
        switch try value(name) {
        case .u32(let v): return v
        case .string(let s): if let v = UInt32(s) { return v }
        default: break
        }
        throw .badFormat
    }

    public func u64(_ name: String) throws(TEEResult) -> UInt64 {
        switch try value(name) {
        case .u64(let v): return v
        case .u32(let v): return UInt64(v)
        case .string(let s): if let v = UInt64(s) { return v }
        default: break
        }
        throw .badFormat
    }

    public func binary(_ name: String) throws(TEEResult) -> [UInt8] {
        guard case .binary(let b) = try value(name) else { throw .badFormat }
        return b
    }

    public func uuid(_ name: String) throws(TEEResult) -> TEEUUID {
        switch try value(name) {
        case .uuid(let u): return u
        case .string(let s): if let u = TEEUUID(s) { return u }
        default: break
        }
        throw .badFormat
    }

    public func identity(_ name: String) throws(TEEResult) -> (login: Login, uuid: TEEUUID) {
        guard case .identity(let login, let uuid) = try value(name) else { throw .badFormat }
        return (login, uuid)
    }

    /// Every property, sorted by name (GP's property enumerator).
    public var all: [(name: String, value: PropertyValue)] {
        values.keys.sorted().map { ($0, values[$0]!) }
    }
}

extension TAProperties {
    /// The gpd.ta.* properties.
    var gpdValues: [String: PropertyValue] {
        var v: [String: PropertyValue] = [
            "gpd.ta.appID": .uuid(uuid),
            "gpd.ta.singleInstance": .bool(singleInstance),
            "gpd.ta.multiSession": .bool(multiSession),
            "gpd.ta.instanceKeepAlive": .bool(instanceKeepAlive),
            "gpd.ta.dataSize": .u32(dataSize),
            "gpd.ta.stackSize": .u32(stackSize),
            "gpd.ta.version": .string(version),
            "gpd.ta.description": .string(description),
            "gpd.ta.endian": .u32(0),
        ]
        v.merge(extra) { gp, _ in gp }
        return v
    }
}

func base64(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var out = ""
    var i = 0
    while i < bytes.count {
        let chunk = Array(bytes[i..<min(i + 3, bytes.count)])
        let n = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
        for j in 0..<4 { out.append(j <= chunk.count ? table[(n >> (18 - 6 * j)) & 63] : "=") }
        i += 3
    }
    return out
}

extension TEE {
    /// The implementation's gpd.tee.* properties (`TEE_PROPSET_TEE_IMPLEMENTATION`), the same in
    /// every runtime; `deviceID` is the device's identity, which only the core knows.
    public static func implementationProperties(deviceID: TEEUUID) -> [String: PropertyValue] {
        [
            "gpd.tee.apiversion": .string("1.3.1"),
            "gpd.tee.internalCore.version": .u32(0x0103_0100),
            "gpd.tee.description": .string("rproc-tee simulated secure world"),
            "gpd.tee.deviceID": .uuid(deviceID),
            "gpd.tee.systemTime.protectionLevel": .u32(100),
            "gpd.tee.TAPersistentTime.protectionLevel": .u32(100),
            "gpd.tee.arith.maxBigIntSize": .u32(4096),
            "gpd.tee.cryptography.ecc": .bool(true),
            "gpd.tee.trustedStorage.antiRollback.protectionLevel": .u32(0),
            "gpd.tee.trustedos.implementation.version": .string("0.1.0"),
            "gpd.tee.trustedos.implementation.binaryversion": .u32(0x0000_0100),
            "gpd.tee.trustedos.manufacturer": .string("rproc-tee"),
            // No firmware below the simulated secure world: its version is the trusted OS's.
            "gpd.tee.firmware.implementation.version": .string("0.1.0"),
            "gpd.tee.firmware.implementation.binaryversion": .u32(0x0000_0100),
            "gpd.tee.firmware.manufacturer": .string("rproc-tee"),
        ]
    }
}
