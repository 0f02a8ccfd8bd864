import Foundation
import TEECrypto

/// Who touches memory.
public enum Requester: Sendable, Hashable, CustomStringConvertible {
    case secure, normal, coprocessor(UInt32)
    public var description: String {
        switch self {
        case .secure: "secure CPU"
        case .normal: "normal-world CPU"
        case .coprocessor(let id): "coprocessor \(id)"
        }
    }
}

/// Access rights of one requester to one region in one firewall configuration.
public struct Rights: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Rights(rawValue: 1)
    public static let write = Rights(rawValue: 2)
    public static let execute = Rights(rawValue: 4)

    init(text: String, path: String) throws(PlatformError) {
        var r: Rights = []
        for c in text {
            switch c {
            case "r": r.insert(.read)
            case "w": r.insert(.write)
            case "x": r.insert(.execute)
            default: throw PlatformError(.badValue, "rights are letters among r, w, x (\"\" for none), not \"\(text)\"", path: path)
            }
        }
        self = r
    }

    public var description: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }
}

/// The firewall configurations a region goes through: before any firmware (default), while the
/// secure world loads it and holds it loaded (load), while the coprocessor runs it (running).
public enum FirewallState: String, Sendable, CaseIterable {
    case `default`, load, running
}

public struct RegionDescription: Sendable, Hashable {
    public var name: String
    public var deviceAddress: UInt32
    public var physicalAddress: UInt32
    public var size: UInt32
    /// Firmware may be loaded here.
    public var loadable: Bool
    /// Meant to be shared with the normal world (IPC buffers, vrings).
    public var shared: Bool
    /// Secure memory of the coprocessor (TF-M's SRAM on a Cortex-M33): never opened to the
    /// normal world through a window, whatever lies in it.
    public var secure: Bool
    /// Normal-world and coprocessor rights per firewall configuration (the secure CPU always
    /// has read and write).
    public var firewall: [FirewallState: (normal: Rights, coprocessor: Rights)]

    public static func == (l: RegionDescription, r: RegionDescription) -> Bool {
        l.name == r.name && l.deviceAddress == r.deviceAddress && l.physicalAddress == r.physicalAddress && l.size == r.size
            && l.loadable == r.loadable && l.shared == r.shared && l.secure == r.secure
            && FirewallState.allCases.allSatisfy { l.firewall[$0]?.normal == r.firewall[$0]?.normal && l.firewall[$0]?.coprocessor == r.firewall[$0]?.coprocessor }
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(deviceAddress)
        h.combine(physicalAddress)
    }

    public func containsDA(_ da: UInt64, size: UInt64) -> Bool {
        da >= UInt64(deviceAddress) && size <= UInt64(self.size) && da - UInt64(deviceAddress) <= UInt64(self.size) - size
    }

    public func containsPA(_ pa: UInt64, size: UInt64) -> Bool {
        pa >= UInt64(physicalAddress) && size <= UInt64(self.size) && pa - UInt64(physicalAddress) <= UInt64(self.size) - size
    }
}

public struct CoprocessorDescription: Sendable, Hashable {
    public var id: UInt32
    public var name: String
    public var core: String
    public var elfMachines: Set<UInt16>
    public var regions: [RegionDescription]
}

/// A board (spec: DESIGN.md §3), decoded strictly from JSON.
///
/// ```json
/// { "name": "stm32mp15", "description": "…",
///   "coprocessors": [ { "id": 0, "name": "m4", "core": "cortex-m4", "elfMachines": [40],
///       "regions": [ { "name": "RETRAM", "deviceAddress": "0x0", "physicalAddress": "0x38000000",
///                      "size": "0x10000", "loadable": true, "shared": false,
///                      "firewall": { "default": {"normal": "rw", "coprocessor": ""},
///                                    "load":    {"normal": "",   "coprocessor": ""},
///                                    "running": {"normal": "",   "coprocessor": "rwx"} } } ] } ],
///   "trustedKeys": { "publicKeys": ["-----BEGIN PUBLIC KEY-----…"], "keyHashes": ["<sha-256 hex>"],
///                    "revoked": ["<sha-256 hex>"] } }
/// ```
/// Numbers are JSON integers or "0x…" strings. Unknown keys, overlapping regions (in device or
/// physical address space), translations that wrap and loadable shared regions are errors.
public struct PlatformDescription: Sendable {
    public var name: String
    public var description: String
    public var coprocessors: [CoprocessorDescription]
    public var trustedKeys: TrustedKeyList

    public struct TrustedKeyList: Sendable {
        public var publicKeys: [PublicKey] = []
        public var keyHashes: [Digest] = []
        public var revoked: [Digest] = []
    }

    /// Upper bound of one region: memory is real bytes in this process.
    public static let maxRegionSize: UInt32 = 256 << 20

    public init(json: [UInt8]) throws(PlatformError) {
        let any: Any
        do {
            any = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            throw PlatformError(.malformedJSON, "not JSON: \(error.localizedDescription)", path: "")
        }
        var root = try StrictObject(any, path: "")
        name = try root.string("name")
        description = try root.optionalString("description") ?? ""
        var coprocessors: [CoprocessorDescription] = []
        for (i, c) in try root.array("coprocessors").enumerated() {
            coprocessors.append(try Self.coprocessor(c, path: "coprocessors[\(i)]"))
        }
        guard !coprocessors.isEmpty else { throw PlatformError(.badValue, "a platform has at least one coprocessor", path: "coprocessors") }
        var keys = TrustedKeyList()
        if let k = root.optionalRaw("trustedKeys") {
            var o = try StrictObject(k, path: "trustedKeys")
            for (i, pem) in (try o.optionalArray("publicKeys") ?? []).enumerated() {
                let path = "trustedKeys.publicKeys[\(i)]"
                guard let text = pem as? String else { throw PlatformError(.wrongType, "expected a PEM string", path: path) }
                do { keys.publicKeys.append(try PublicKey(pem: text)) } catch let e as CryptoError { throw PlatformError(.badValue, "not a usable public key: \(e.reason)", path: path) } catch { throw PlatformError(.badValue, "not a usable public key", path: path) }
            }
            keys.keyHashes = try Self.digests(try o.optionalArray("keyHashes") ?? [], path: "trustedKeys.keyHashes")
            keys.revoked = try Self.digests(try o.optionalArray("revoked") ?? [], path: "trustedKeys.revoked")
            try o.finish()
        }
        try root.finish()
        self.coprocessors = coprocessors
        self.trustedKeys = keys
        try validate()
    }

    static func digests(_ values: [Any], path: String) throws(PlatformError) -> [Digest] {
        var out: [Digest] = []
        for (i, v) in values.enumerated() {
            guard let text = v as? String, let bytes = bytesFromHex(text), let d = try? Digest(algorithm: .sha256, bytes: bytes) else {
                throw PlatformError(.badValue, "expected 64 hex digits (a SHA-256 of a DER public key)", path: "\(path)[\(i)]")
            }
            out.append(d)
        }
        return out
    }

    static func coprocessor(_ any: Any, path: String) throws(PlatformError) -> CoprocessorDescription {
        var o = try StrictObject(any, path: path)
        let id = try o.u32("id")
        let name = try o.string("name"), core = try o.string("core")
        var machines = Set<UInt16>()
        for (i, m) in try o.array("elfMachines").enumerated() {
            let v = try StrictObject.u32(m, path: "\(path).elfMachines[\(i)]")
            guard let m16 = UInt16(exactly: v) else { throw PlatformError(.badValue, "not an e_machine value", path: "\(path).elfMachines[\(i)]") }
            machines.insert(m16)
        }
        var regions: [RegionDescription] = []
        for (i, r) in try o.array("regions").enumerated() {
            regions.append(try region(r, path: "\(path).regions[\(i)]"))
        }
        try o.finish()
        guard !regions.isEmpty else { throw PlatformError(.badValue, "a coprocessor has at least one region", path: "\(path).regions") }
        return CoprocessorDescription(id: id, name: name, core: core, elfMachines: machines, regions: regions)
    }

    static func region(_ any: Any, path: String) throws(PlatformError) -> RegionDescription {
        var o = try StrictObject(any, path: path)
        let name = try o.string("name")
        let da = try o.u32("deviceAddress"), pa = try o.u32("physicalAddress"), size = try o.u32("size")
        let loadable = try o.bool("loadable", default: false), shared = try o.bool("shared", default: false)
        let secure = try o.bool("secure", default: false)
        var firewall: [FirewallState: (normal: Rights, coprocessor: Rights)] = [:]
        var f = try StrictObject(try o.raw("firewall"), path: "\(path).firewall")
        for state in FirewallState.allCases {
            var s = try StrictObject(try f.raw(state.rawValue), path: "\(path).firewall.\(state.rawValue)")
            let normal = try Rights(text: try s.string("normal"), path: s.sub("normal"))
            let coprocessor = try Rights(text: try s.string("coprocessor"), path: s.sub("coprocessor"))
            try s.finish()
            firewall[state] = (normal, coprocessor)
        }
        try f.finish()
        try o.finish()
        guard size > 0, size <= maxRegionSize else { throw PlatformError(.badValue, "size must be 1 to \(maxRegionSize) bytes", path: "\(path).size") }
        // Translations must not wrap the 32-bit address spaces.
        guard UInt64(da) + UInt64(size) <= 1 << 32 else { throw PlatformError(.badTranslation, "device range wraps past 4 GiB", path: "\(path).deviceAddress") }
        guard UInt64(pa) + UInt64(size) <= 1 << 32 else { throw PlatformError(.badTranslation, "physical range wraps past 4 GiB", path: "\(path).physicalAddress") }
        guard !(loadable && shared) else { throw PlatformError(.badValue, "a region cannot be both loadable (firmware-private) and shared", path: "\(path).shared") }
        guard !(secure && shared) else { throw PlatformError(.badValue, "a region cannot be both secure and shared", path: "\(path).shared") }
        if loadable {
            // Firmware memory must be closed to the normal world while firmware is in it.
            for state in [FirewallState.load, .running] where !firewall[state]!.normal.isEmpty {
                throw PlatformError(.badValue, "a loadable region must deny the normal world in the \(state.rawValue) configuration", path: "\(path).firewall.\(state.rawValue).normal")
            }
        }
        return RegionDescription(name: name, deviceAddress: da, physicalAddress: pa, size: size, loadable: loadable, shared: shared, secure: secure, firewall: firewall)
    }

    func validate() throws(PlatformError) {
        var ids = Set<UInt32>()
        var physical: [(String, UInt64, UInt64)] = []
        for (ci, c) in coprocessors.enumerated() {
            guard ids.insert(c.id).inserted else { throw PlatformError(.badValue, "coprocessor id \(c.id) is used twice", path: "coprocessors[\(ci)].id") }
            for (ri, r) in c.regions.enumerated() {
                for (rj, other) in c.regions.enumerated() where rj < ri {
                    if UInt64(r.deviceAddress) < UInt64(other.deviceAddress) + UInt64(other.size) && UInt64(other.deviceAddress) < UInt64(r.deviceAddress) + UInt64(r.size) {
                        throw PlatformError(.overlappingRegions, "device range of \(r.name) overlaps \(other.name)", path: "coprocessors[\(ci)].regions[\(ri)].deviceAddress")
                    }
                }
                for (name, start, end) in physical where UInt64(r.physicalAddress) < end && start < UInt64(r.physicalAddress) + UInt64(r.size) {
                    throw PlatformError(.overlappingRegions, "physical range of \(r.name) overlaps \(name)", path: "coprocessors[\(ci)].regions[\(ri)].physicalAddress")
                }
                physical.append((r.name, UInt64(r.physicalAddress), UInt64(r.physicalAddress) + UInt64(r.size)))
            }
        }
    }

    /// The boards shipped with rproc-tee: `stm32mp15`, `stm32mp25`.
    public static func builtIn(_ name: String) throws(PlatformError) -> PlatformDescription {
        let file = name == "mp15" ? "stm32mp15" : name == "mp25" ? "stm32mp25" : name
        guard let url = Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "Boards"),
              let data = FileManager.default.contents(atPath: url.path) else {
            throw PlatformError(.unknownBoard, "no built-in board \"\(name)\" (built in: stm32mp15, stm32mp25)", path: "")
        }
        return try PlatformDescription(json: Array(data))
    }
}
