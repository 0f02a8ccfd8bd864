/// A Linux remoteproc resource table (`struct resource_table`, spec/image-format.md §7),
/// parsed strictly: every offset points inside the table at an entry that fits, reserved fields
/// are zero, names are NUL-terminated, a vdev has at most two vrings, and only the types Linux
/// knows (0–3) or the vendor range (128–512) are accepted.
public struct ResourceTable: Sendable, Hashable {
    public struct Carveout: Sendable, Hashable {
        public var da: UInt32, pa: UInt32, length: UInt32, flags: UInt32
        public var name: String
    }

    public struct Trace: Sendable, Hashable {
        public var da: UInt32, length: UInt32
        public var name: String
    }

    public struct Vring: Sendable, Hashable {
        public var da: UInt32, align: UInt32, count: UInt32, notifyID: UInt32, pa: UInt32
    }

    public struct VDev: Sendable, Hashable {
        public var id: UInt32, notifyID: UInt32, deviceFeatures: UInt32, guestFeatures: UInt32
        public var status: UInt8
        public var vrings: [Vring]
        public var config: [UInt8]
    }

    public enum Entry: Sendable, Hashable {
        case carveout(Carveout)
        case devmem(Carveout)
        case trace(Trace)
        case vdev(VDev)
        /// A vendor-specific entry (type 128…512): its bytes from the type word up to the next
        /// entry or the end of the table.
        case vendor(type: UInt32, bytes: [UInt8])
    }

    public static let typeCarveout: UInt32 = 0
    public static let typeDevmem: UInt32 = 1
    public static let typeTrace: UInt32 = 2
    public static let typeVdev: UInt32 = 3
    public static let vendorTypes: ClosedRange<UInt32> = 128...512

    public let version: UInt32
    /// Entries in table order, with the offset of each inside the table.
    public let entries: [(offset: Int, entry: Entry)]

    public static func == (lhs: ResourceTable, rhs: ResourceTable) -> Bool {
        lhs.version == rhs.version && lhs.entries.map(\.offset) == rhs.entries.map(\.offset) && lhs.entries.map(\.entry) == rhs.entries.map(\.entry)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        for (offset, entry) in entries {
            hasher.combine(offset)
            hasher.combine(entry)
        }
    }

    public var traces: [Trace] { entries.compactMap { if case .trace(let t) = $0.entry { t } else { nil } } }
    public var carveouts: [Carveout] { entries.compactMap { if case .carveout(let c) = $0.entry { c } else { nil } } }
    public var vdevs: [VDev] { entries.compactMap { if case .vdev(let v) = $0.entry { v } else { nil } } }

    static let maxVrings = 2
    static let nameLength = 32

    /// Parses `bytes`, the whole table. `base` is the table's offset in the file, for errors.
    public init(bytes: [UInt8], base: Int = 0) throws {
        var r = ByteReader(bytes, base: base)
        // Attacker-controlled: the header. ver must be 1 and the reserved words zero.
        let version = try r.u32("resource table ver")
        guard version == 1 else { throw Self.error("version \(version) is not 1", base) }
        let num = try r.u32("resource table num")
        guard try r.u32("reserved[0]") == 0, try r.u32("reserved[1]") == 0 else {
            throw Self.error("reserved header words are not zero", base + 8)
        }
        // Attacker-controlled: num. The offset array must fit in the table (this also caps num
        // by the table size, so no large allocation can follow).
        guard UInt64(num) * 4 <= UInt64(r.remaining) else {
            throw Self.error("num = \(num) offsets do not fit in a \(bytes.count)-byte table", base + 4)
        }
        var offsets: [Int] = []
        for i in 0..<Int(num) { offsets.append(Int(try r.u32("offset[\(i)]"))) }
        let entriesStart = 16 + 4 * Int(num)
        let sortedOffsets = offsets.sorted()

        // Every offset is checked before any entry is read, so an entry's limit (the next offset)
        // is always a valid index.
        for (i, offset) in offsets.enumerated() {
            // Attacker-controlled: offset[i]. It must point past the offset array, be 4-aligned,
            // and leave room for the type word.
            guard offset >= entriesStart, offset % 4 == 0, offset <= bytes.count - 4 else {
                throw Self.error("offset[\(i)] = \(hex(offset)) does not point at an entry inside the table (entries start at \(hex(entriesStart)), table is \(bytes.count) bytes)", base + 16 + 4 * i)
            }
        }
        var entries: [(offset: Int, entry: Entry)] = []
        for (i, offset) in offsets.enumerated() {
            // An entry may extend to the next entry's offset or the end of the table, no further.
            let limit = sortedOffsets.first { $0 > offset } ?? bytes.count
            var e = ByteReader(Array(bytes[offset..<limit]), base: base + offset)
            let type = try e.u32("entry type")
            let entry: Entry
            do {
                entry = try Self.parseEntry(type: type, &e, index: i, at: base + offset)
            } catch let error as ImageError where error.code == .truncated {
                throw Self.error("entry \(i) (type \(type)) does not fit before the next entry or the end of the table: \(error.reason)", base + offset)
            }
            entries.append((offset, entry))
        }
        self.version = version
        self.entries = entries
    }

    private static func parseEntry(type: UInt32, _ e: inout ByteReader, index i: Int, at: Int) throws -> Entry {
        switch type {
        case typeCarveout, typeDevmem:
            let c = Carveout(da: try e.u32("da"), pa: try e.u32("pa"), length: try e.u32("len"), flags: try e.u32("flags"), name: "")
            guard try e.u32("reserved") == 0 else { throw error("entry \(i): reserved word is not zero", at + 20) }
            var carveout = c
            carveout.name = try name(&e, entry: i)
            return type == typeCarveout ? .carveout(carveout) : .devmem(carveout)
        case typeTrace:
            let da = try e.u32("da"), length = try e.u32("len")
            guard try e.u32("reserved") == 0 else { throw error("entry \(i): trace reserved word is not zero", at + 12) }
            return .trace(Trace(da: da, length: length, name: try name(&e, entry: i)))
        case typeVdev:
            let id = try e.u32("id"), notify = try e.u32("notifyid"), dfeatures = try e.u32("dfeatures"), gfeatures = try e.u32("gfeatures")
            let configLength = try e.u32("config_len")
            let status = try e.u8("status")
            let vringCount = try e.u8("num_of_vrings")
            guard try e.u8("reserved[0]") == 0, try e.u8("reserved[1]") == 0 else {
                throw error("entry \(i): vdev reserved bytes are not zero", at + 26)
            }
            // Attacker-controlled: num_of_vrings. Linux supports two (RVDEV_NUM_VRINGS).
            guard Int(vringCount) <= maxVrings else {
                throw error("entry \(i): vdev has \(vringCount) vrings; at most \(maxVrings) are supported", at + 25)
            }
            var vrings: [Vring] = []
            for v in 0..<Int(vringCount) {
                let vring = Vring(da: try e.u32("vring da"), align: try e.u32("vring align"), count: try e.u32("vring num"),
                                  notifyID: try e.u32("vring notifyid"), pa: try e.u32("vring pa"))
                guard vring.count > 0, vring.align > 0 else {
                    throw error("entry \(i): vring \(v) has num \(vring.count) and align \(vring.align); both must be non-zero", at + 28 + 20 * v)
                }
                vrings.append(vring)
            }
            // Attacker-controlled: config_len, checked by `take` against what is left.
            let config = try e.take(Int(configLength), "vdev config")
            return .vdev(VDev(id: id, notifyID: notify, deviceFeatures: dfeatures, guestFeatures: gfeatures, status: status, vrings: vrings, config: config))
        case vendorTypes:
            return .vendor(type: type, bytes: e.bytes)
        default:
            throw error("entry \(i): unknown resource type \(type)", at)
        }
    }

    private static func name(_ e: inout ByteReader, entry i: Int) throws -> String {
        let at = e.fileOffset
        let raw = try e.take(nameLength, "name[32]")
        guard let end = raw.firstIndex(of: 0) else { throw error("entry \(i): name is not NUL-terminated within 32 bytes", at) }
        return String(decoding: raw[..<end], as: UTF8.self)
    }

    private static func error(_ reason: String, _ offset: Int) -> ImageError {
        ImageError(.malformedResourceTable, reason, offset: offset)
    }
}
