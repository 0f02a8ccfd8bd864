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

    init(text: String, path: String, at position: JSONPosition?) throws(PlatformError) {
        var r: Rights = []
        for c in text {
            switch c {
            case "r": r.insert(.read)
            case "w": r.insert(.write)
            case "x": r.insert(.execute)
            default: throw PlatformError(.badValue, "rights are letters among r, w, x (\"\" for none), not \"\(text)\"", path: path, at: position)
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
    /// The coprocessor's watchdog, if the board gives it one.
    public var watchdog: Watchdog?
    /// The inter-processor mailbox between the normal world and the coprocessor, if the board
    /// gives it one (STM32MP15's IPCC: `Mailbox`).
    public var mailbox: Mailbox?
    /// Where each region starts in the board file (for error messages).
    var positions: [JSONPosition?] = []

    /// A watchdog the firmware feeds by writing 0xAAAA (the STM32 IWDG reload key) to the 32-bit
    /// register at `deviceAddress`; one that is not fed for `timeoutInstructions` emulated
    /// instructions crashes the coprocessor. Time is counted in instructions, not wall time: the
    /// emulation has no clock (a firmware's pace does not depend on how busy the host is).
    /// `"watchdog": { "deviceAddress": "0x5a002000", "timeoutInstructions": 4000000 }`
    public struct Watchdog: Sendable, Hashable {
        public var deviceAddress: UInt32
        public var timeoutInstructions: UInt32
        public init(deviceAddress: UInt32, timeoutInstructions: UInt32) {
            self.deviceAddress = deviceAddress
            self.timeoutInstructions = timeoutInstructions
        }
        public static let reloadKey: UInt32 = 0xAAAA
        /// Bounds on the timeout: at least 10,000 instructions, at most 10⁹.
        public static let timeoutRange: ClosedRange<UInt32> = 10_000...1_000_000_000
        /// The 4 KiB page the register sits in, mapped into the core (read-write) apart from
        /// any region.
        public var page: UInt32 { deviceAddress & ~0xFFF }
    }

    /// An STM32 IPCC (RM0436 "IPCC"; Linux's `stm32-ipcc.c`): `channels` channels each way
    /// between processor 1 (the normal world, Linux) and processor 2 (this coprocessor), whose
    /// registers sit in the 4 KiB page at `deviceAddress` of the coprocessor's address space;
    /// the coprocessor's NVIC takes "RX occupied" on line `rxIRQ` and "TX free" on `txIRQ`.
    /// `"mailbox": { "deviceAddress": "0x4c001000", "channels": 6, "rxIRQ": 103, "txIRQ": 104 }`
    /// (STM32MP15: the M4's IPCC_RX1_IRQn/IPCC_TX1_IRQn in ST's `stm32mp157cxx_cm4.h`).
    public struct Mailbox: Sendable, Hashable {
        public var deviceAddress: UInt32
        public var channels: Int
        public var rxIRQ: Int
        public var txIRQ: Int
        public init(deviceAddress: UInt32, channels: Int, rxIRQ: Int, txIRQ: Int) {
            (self.deviceAddress, self.channels, self.rxIRQ, self.txIRQ) = (deviceAddress, channels, rxIRQ, txIRQ)
        }
        public static let channelRange = 1...6
    }

    func position(of region: Int) -> JSONPosition? { positions.indices.contains(region) ? positions[region] : nil }

    public static func == (l: CoprocessorDescription, r: CoprocessorDescription) -> Bool {
        l.id == r.id && l.name == r.name && l.core == r.core && l.elfMachines == r.elfMachines && l.regions == r.regions && l.watchdog == r.watchdog && l.mailbox == r.mailbox
    }

    public func hash(into h: inout Hasher) {
        h.combine(id)
        h.combine(name)
    }
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
    /// Upper bound of all regions of a board together (each is allocated when first written).
    public static let maxTotalMemory: UInt64 = 1 << 30
    /// Upper bounds on what a board file may declare.
    public static let maxCoprocessors = 16
    public static let maxRegions = 256

    public init(json: [UInt8]) throws(PlatformError) {
        let root: JSONValue, at: JSONPosition
        do {
            (root, at) = try StrictJSON.parse(json)
        } catch {
            throw PlatformError(error.duplicateKey ? .duplicateKey : json.count > StrictJSON.maxBytes ? .tooLarge : .malformedJSON, error.reason, path: error.path, at: error.position)
        }
        var o = try StrictObject(root, path: "", at: at)
        name = try o.string("name")
        description = try o.optionalString("description") ?? ""
        let list = try o.array("coprocessors")
        // Attacker: whoever wrote the board file. Counts are bounded before anything is built.
        guard list.count <= Self.maxCoprocessors else {
            throw PlatformError(.tooLarge, "\(list.count) coprocessors; a board has at most \(Self.maxCoprocessors)", path: "coprocessors", at: list[Self.maxCoprocessors].position)
        }
        var coprocessors: [CoprocessorDescription] = []
        var regionCount = 0
        var totalMemory: UInt64 = 0
        for (i, c) in list.enumerated() {
            let coprocessor = try Self.coprocessor(c, path: "coprocessors[\(i)]", regionsSoFar: regionCount)
            regionCount += coprocessor.regions.count
            totalMemory += coprocessor.regions.reduce(0) { $0 + UInt64($1.size) }
            guard totalMemory <= Self.maxTotalMemory else {
                throw PlatformError(.tooLarge, "the regions add up to more than \(Self.maxTotalMemory >> 20) MiB, the limit of a board's memory", path: "coprocessors[\(i)].regions", at: c.position)
            }
            coprocessors.append(coprocessor)
        }
        guard !coprocessors.isEmpty else { throw PlatformError(.badValue, "a platform has at least one coprocessor", path: "coprocessors", at: o.members["coprocessors"]?.position) }
        var keys = TrustedKeyList()
        if o.optionalRaw("trustedKeys") != nil {
            var k = try o.object("trustedKeys")
            for (i, pem) in (try k.optionalArray("publicKeys") ?? []).enumerated() {
                let path = "trustedKeys.publicKeys[\(i)]"
                let text = try StrictObject.string(pem.value, path: path, at: pem.position)
                do { keys.publicKeys.append(try PublicKey(pem: text)) } catch let e as CryptoError {
                    throw PlatformError(.badValue, "not a usable public key: \(e.reason)", path: path, at: pem.position)
                } catch {
                    throw PlatformError(.badValue, "not a usable public key", path: path, at: pem.position)
                }
            }
            keys.keyHashes = try Self.digests(try k.optionalArray("keyHashes") ?? [], path: "trustedKeys.keyHashes")
            keys.revoked = try Self.digests(try k.optionalArray("revoked") ?? [], path: "trustedKeys.revoked")
            try k.finish()
        }
        try o.finish()
        self.coprocessors = coprocessors
        self.trustedKeys = keys
        try validate()
    }

    static func digests(_ values: [JSONValue.Element], path: String) throws(PlatformError) -> [Digest] {
        var out: [Digest] = []
        for (i, v) in values.enumerated() {
            let text = try StrictObject.string(v.value, path: "\(path)[\(i)]", at: v.position)
            guard let bytes = bytesFromHex(text), let d = try? Digest(algorithm: .sha256, bytes: bytes) else {
                throw PlatformError(.badValue, "expected 64 hex digits (a SHA-256 of a DER public key)", path: "\(path)[\(i)]", at: v.position)
            }
            out.append(d)
        }
        return out
    }

    static func coprocessor(_ element: JSONValue.Element, path: String, regionsSoFar: Int) throws(PlatformError) -> CoprocessorDescription {
        var o = try StrictObject(element.value, path: path, at: element.position)
        let id = try o.u32("id")
        let name = try o.string("name"), core = try o.string("core")
        var machines = Set<UInt16>()
        for (i, m) in try o.array("elfMachines").enumerated() {
            let v = try StrictObject.u32(m.value, path: "\(path).elfMachines[\(i)]", at: m.position)
            guard let m16 = UInt16(exactly: v) else { throw PlatformError(.badValue, "not an e_machine value", path: "\(path).elfMachines[\(i)]", at: m.position) }
            machines.insert(m16)
        }
        let list = try o.array("regions")
        guard regionsSoFar + list.count <= maxRegions else {
            throw PlatformError(.tooLarge, "more than \(maxRegions) regions on the board, the limit", path: "\(path).regions", at: list[max(0, maxRegions - regionsSoFar)].position)
        }
        var regions: [RegionDescription] = []
        for (i, r) in list.enumerated() {
            regions.append(try region(r, path: "\(path).regions[\(i)]"))
        }
        var watchdog: CoprocessorDescription.Watchdog?
        if let (_, at) = o.optionalRaw("watchdog") {
            var w = try o.object("watchdog")
            let address = try w.u32("deviceAddress"), timeout = try w.u32("timeoutInstructions")
            try w.finish()
            let wpath = "\(path).watchdog"
            // Attacker: whoever wrote the board file. The register is one aligned word whose page
            // is no region's: the page is mapped into the core on its own.
            guard address % 4 == 0 else { throw PlatformError(.badValue, "the watchdog register must be 4-byte aligned", path: "\(wpath).deviceAddress", at: at) }
            guard CoprocessorDescription.Watchdog.timeoutRange.contains(timeout) else {
                throw PlatformError(.badValue, "timeoutInstructions must be \(CoprocessorDescription.Watchdog.timeoutRange.lowerBound) to \(CoprocessorDescription.Watchdog.timeoutRange.upperBound)", path: "\(wpath).timeoutInstructions", at: at)
            }
            let page = UInt64(address & ~0xFFF)
            if let r = regions.first(where: { page < UInt64($0.deviceAddress) + UInt64($0.size) && UInt64($0.deviceAddress) < page + 0x1000 }) {
                throw PlatformError(.overlappingRegions, "the watchdog's 4 KiB page at \(hex(page)) overlaps region \(r.name)", path: "\(wpath).deviceAddress", at: at)
            }
            watchdog = .init(deviceAddress: address, timeoutInstructions: timeout)
        }
        var mailbox: CoprocessorDescription.Mailbox?
        if let (_, at) = o.optionalRaw("mailbox") {
            var m = try o.object("mailbox")
            let address = try m.u32("deviceAddress"), channels = Int(try m.u32("channels"))
            let rx = Int(try m.u32("rxIRQ")), tx = Int(try m.u32("txIRQ"))
            try m.finish()
            let mpath = "\(path).mailbox"
            // Attacker: whoever wrote the board file. The registers are a 4 KiB page of their
            // own (mapped into the core apart from any region), the lines two distinct NVIC lines.
            guard address % 0x1000 == 0 else { throw PlatformError(.badValue, "the mailbox's registers are a 4 KiB-aligned page", path: "\(mpath).deviceAddress", at: at) }
            guard CoprocessorDescription.Mailbox.channelRange.contains(channels) else {
                throw PlatformError(.badValue, "channels must be 1 to 6 (an STM32 IPCC's)", path: "\(mpath).channels", at: at)
            }
            guard rx < 240, tx < 240, rx != tx else { throw PlatformError(.badValue, "rxIRQ and txIRQ are two distinct NVIC lines below 240", path: "\(mpath).rxIRQ", at: at) }
            let page = UInt64(address)
            if let r = regions.first(where: { page < UInt64($0.deviceAddress) + UInt64($0.size) && UInt64($0.deviceAddress) < page + 0x1000 }) {
                throw PlatformError(.overlappingRegions, "the mailbox's 4 KiB page at \(hex(page)) overlaps region \(r.name)", path: "\(mpath).deviceAddress", at: at)
            }
            if let watchdog, UInt64(watchdog.page) == page {
                throw PlatformError(.overlappingRegions, "the mailbox's 4 KiB page at \(hex(page)) is the watchdog's", path: "\(mpath).deviceAddress", at: at)
            }
            mailbox = .init(deviceAddress: address, channels: channels, rxIRQ: rx, txIRQ: tx)
        }
        try o.finish()
        guard !regions.isEmpty else { throw PlatformError(.badValue, "a coprocessor has at least one region", path: "\(path).regions", at: element.position) }
        var description = CoprocessorDescription(id: id, name: name, core: core, elfMachines: machines, regions: regions, watchdog: watchdog, positions: list.map(\.position))
        description.mailbox = mailbox
        return description
    }

    static func region(_ element: JSONValue.Element, path: String) throws(PlatformError) -> RegionDescription {
        var o = try StrictObject(element.value, path: path, at: element.position)
        let name = try o.string("name")
        let da = try o.u32("deviceAddress"), pa = try o.u32("physicalAddress"), size = try o.u32("size")
        let loadable = try o.bool("loadable", default: false), shared = try o.bool("shared", default: false)
        let secure = try o.bool("secure", default: false)
        var firewall: [FirewallState: (normal: Rights, coprocessor: Rights)] = [:]
        var f = try o.object("firewall")
        for state in FirewallState.allCases {
            var s = try f.object(state.rawValue)
            let normalAt = s.members["normal"]?.position, coprocessorAt = s.members["coprocessor"]?.position
            let normal = try Rights(text: try s.string("normal"), path: s.sub("normal"), at: normalAt)
            let coprocessor = try Rights(text: try s.string("coprocessor"), path: s.sub("coprocessor"), at: coprocessorAt)
            try s.finish()
            firewall[state] = (normal, coprocessor)
        }
        try f.finish()
        try o.finish()
        let at = { (key: String) in o.members[key]?.position ?? element.position }
        guard size > 0, size <= maxRegionSize else { throw PlatformError(.badValue, "size must be 1 to \(maxRegionSize) bytes", path: "\(path).size", at: at("size")) }
        // Translations must not wrap the 32-bit address spaces.
        guard UInt64(da) + UInt64(size) <= 1 << 32 else { throw PlatformError(.badTranslation, "device range wraps past 4 GiB", path: "\(path).deviceAddress", at: at("deviceAddress")) }
        guard UInt64(pa) + UInt64(size) <= 1 << 32 else { throw PlatformError(.badTranslation, "physical range wraps past 4 GiB", path: "\(path).physicalAddress", at: at("physicalAddress")) }
        guard !(loadable && shared) else { throw PlatformError(.badValue, "a region cannot be both loadable (firmware-private) and shared", path: "\(path).shared", at: at("shared")) }
        guard !(secure && shared) else { throw PlatformError(.badValue, "a region cannot be both secure and shared", path: "\(path).shared", at: at("shared")) }
        if loadable {
            // Firmware memory must be closed to the normal world while firmware is in it.
            for state in [FirewallState.load, .running] where !firewall[state]!.normal.isEmpty {
                throw PlatformError(.badValue, "a loadable region must deny the normal world in the \(state.rawValue) configuration", path: "\(path).firewall.\(state.rawValue).normal", at: at("firewall"))
            }
        }
        return RegionDescription(name: name, deviceAddress: da, physicalAddress: pa, size: size, loadable: loadable, shared: shared, secure: secure, firewall: firewall)
    }

    /// Unique ids; no two regions of a coprocessor share device addresses, no two regions of
    /// the board share physical addresses. Sorted sweeps: O(n log n) in the number of regions.
    func validate() throws(PlatformError) {
        var ids = Set<UInt32>()
        struct Span { let start: UInt64, end: UInt64, coprocessor: Int, region: Int }
        func firstOverlap(_ spans: [Span]) -> (Span, Span)? {
            let sorted = spans.sorted { ($0.start, $0.coprocessor, $0.region) < ($1.start, $1.coprocessor, $1.region) }
            var widest: Span?
            for span in sorted {
                if let w = widest, span.start < w.end { return (w, span) }
                if widest == nil || span.end > widest!.end { widest = span }
            }
            return nil
        }
        func later(_ a: Span, _ b: Span) -> (Span, Span) { (a.coprocessor, a.region) > (b.coprocessor, b.region) ? (a, b) : (b, a) }
        var physical: [Span] = []
        for (ci, c) in coprocessors.enumerated() {
            guard ids.insert(c.id).inserted else { throw PlatformError(.badValue, "coprocessor id \(c.id) is used twice", path: "coprocessors[\(ci)].id") }
            let device = c.regions.enumerated().map { Span(start: UInt64($1.deviceAddress), end: UInt64($1.deviceAddress) + UInt64($1.size), coprocessor: ci, region: $0) }
            if let pair = firstOverlap(device) {
                let (r, other) = later(pair.0, pair.1)
                throw PlatformError(.overlappingRegions, "device range of \(c.regions[r.region].name) overlaps \(c.regions[other.region].name)", path: "coprocessors[\(ci)].regions[\(r.region)].deviceAddress", at: c.position(of: r.region))
            }
            physical += c.regions.enumerated().map { Span(start: UInt64($1.physicalAddress), end: UInt64($1.physicalAddress) + UInt64($1.size), coprocessor: ci, region: $0) }
        }
        if let pair = firstOverlap(physical) {
            let (r, other) = later(pair.0, pair.1)
            let name = coprocessors[r.coprocessor].regions[r.region].name, otherName = coprocessors[other.coprocessor].regions[other.region].name
            throw PlatformError(.overlappingRegions, "physical range of \(name) overlaps \(otherName)", path: "coprocessors[\(r.coprocessor)].regions[\(r.region)].physicalAddress", at: coprocessors[r.coprocessor].position(of: r.region))
        }
    }

    /// The boards shipped with rproc-tee, compiled into the binary (an installed `rproc-tee`
    /// needs no file beside it): `stm32mp15` (or `mp15`), `stm32mp25` (or `mp25`).
    public static func builtIn(_ name: String) throws(PlatformError) -> PlatformDescription {
        guard let source = builtInSource(name) else {
            throw PlatformError(.unknownBoard, "no built-in board \"\(name)\" (built in: \(BuiltInBoards.names.joined(separator: ", ")))", path: "")
        }
        return try PlatformDescription(json: Array(source.utf8))
    }

    /// The JSON text of a built-in board (what `--board FILE` would read), or nil.
    public static func builtInSource(_ name: String) -> String? {
        BuiltInBoards.source(name == "mp15" ? "stm32mp15" : name == "mp25" ? "stm32mp25" : name)
    }
}
