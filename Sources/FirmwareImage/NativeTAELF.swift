/// What the secure world checks of a native TA's ELF (the payload of its signed `<uuid>.ta`)
/// before a TA host loads it: an x86-64 shared object (`ET_DYN`, not a PIE: glibc cannot load
/// one), with section headers, and — for a TA rather than a library — the kit's `.ta_head`
/// (OP-TEE's `struct ta_head`: UUID, stack size, flags) and `.rproc_tee_ta` (its data size).
/// Also the UUID-named libraries it needs (`DT_NEEDED`), which must come from the TA folder too.
///
/// Attacker: whoever wrote the file — it is signed by a key the daemon trusts, but a signed TA
/// is still not trusted with the daemon: every offset, size and count is checked here, without
/// arithmetic that can wrap, before anything is read, and counts are capped.
public struct NativeTAELF: Sendable {
    /// OP-TEE's `struct ta_head`: what the loader reads before any of the TA runs.
    public struct Head: Sendable, Equatable {
        /// The TEE_UUID, as its 16 bytes lay out in C (fields little-endian).
        public var uuid: [UInt8]
        /// TA_STACK_SIZE plus OP-TEE's framework allowance (2 KiB).
        public var stackSize: UInt32
        public var flags: UInt32
    }

    /// `TA_FLAG_*` bits the secure world acts on.
    public enum Flag {
        public static let singleInstance: UInt32 = 1 << 2
        public static let multiSession: UInt32 = 1 << 3
        public static let instanceKeepAlive: UInt32 = 1 << 4
        public static let instanceKeepCrashed: UInt32 = 1 << 13
        /// Every bit OP-TEE defines (TA_FLAGS_MASK).
        public static let known: UInt32 = (1 << 14) - 1
    }

    public static let machineX86_64: UInt16 = 62
    /// The kit's `.rproc_tee_ta` record: "RTTA", version 1, TA_DATA_SIZE, reserved.
    public static let recordMagic: UInt32 = 0x4154_5452
    public static let recordVersion: UInt32 = 1
    /// A TA's stack and data the secure world accepts (OP-TEE's TAs ask for KiB to a few MiB).
    public static let maxStackSize: UInt32 = 64 << 20
    public static let maxDataSize: UInt32 = 1 << 30
    static let maxSections = 4096
    static let maxNeeded = 64

    public let head: Head?
    public let dataSize: UInt32?
    /// Every DT_NEEDED name, in order (libutee.so, libc.so.6, and UUIDs of TA libraries).
    public let needed: [String]

    /// The DT_NEEDED names that are UUIDs: libraries to load from the TA folder.
    public var neededTALibraries: [String] { needed.filter(Self.isUUIDName) }

    /// `requireHead`: a TA (true) must carry `.ta_head` and `.rproc_tee_ta`; a library need not.
    public init(bytes b: [UInt8], requireHead: Bool) throws(ImageError) {
        func fail(_ code: ImageError.Code, _ why: String, _ offset: Int = 0) -> ImageError { ImageError(code, why, offset: offset) }
        func u16(_ at: Int) throws(ImageError) -> UInt16 {
            guard at >= 0, at <= b.count - 2 else { throw fail(.truncated, "ELF: a field at \(at) is past the end", at) }
            return UInt16(b[at]) | UInt16(b[at + 1]) << 8
        }
        func u32(_ at: Int) throws(ImageError) -> UInt32 {
            guard at >= 0, at <= b.count - 4 else { throw fail(.truncated, "ELF: a field at \(at) is past the end", at) }
            return UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
        }
        func u64(_ at: Int) throws(ImageError) -> UInt64 { UInt64(try u32(at)) | UInt64(try u32(at + 4)) << 32 }
        /// A file range named by the file: inside it, or `what` is out of bounds.
        func range(_ offset: UInt64, _ size: UInt64, _ what: String) throws(ImageError) -> Range<Int> {
            guard offset <= UInt64(b.count), size <= UInt64(b.count) - offset else {
                throw fail(.segmentOutOfBounds, "ELF: \(what) (\(size) bytes at \(offset)) is outside the \(b.count)-byte file")
            }
            return Int(offset)..<Int(offset + size)
        }

        guard b.count >= 64, b[0] == 0x7F, b[1] == 0x45, b[2] == 0x4C, b[3] == 0x46 else { throw fail(.badMagic, "not an ELF file") }
        guard b[4] == 2, b[5] == 1 else { throw fail(.malformedELF, "not a 64-bit little-endian ELF (class \(b[4]), data \(b[5]))", 4) }
        let type = try u16(16), machine = try u16(18)
        guard machine == Self.machineX86_64 else {
            throw fail(.unsupportedMachine, "an ELF for machine \(machine), not x86-64 (62): build the TA with this kit, not OP-TEE's Arm toolchain", 18)
        }
        guard type == 3 else { throw fail(.malformedELF, "ELF type \(type), not a shared object (ET_DYN): link the TA with -shared", 16) }
        let shoff = try u64(40), shentsize = Int(try u16(58)), shnum = Int(try u16(60)), shstrndx = Int(try u16(62))
        guard shnum > 0, shentsize == 64 else { throw fail(.malformedELF, "no section headers (a TA keeps them: build it with the kit)", 40) }
        guard shnum <= Self.maxSections, shstrndx < shnum else { throw fail(.malformedELF, "\(shnum) sections, names in section \(shstrndx)", 60) }
        let table = try range(shoff, UInt64(shnum) * 64, "the section headers")

        struct Section { let name: UInt32, type: UInt32, offset: UInt64, size: UInt64, link: UInt32 }
        var sections: [Section] = []
        sections.reserveCapacity(shnum)
        for i in 0..<shnum {
            let at = table.lowerBound + 64 * i
            sections.append(Section(name: try u32(at), type: try u32(at + 4), offset: try u64(at + 24), size: try u64(at + 32), link: try u32(at + 40)))
        }
        let names = sections[shstrndx]
        let nameBytes = try range(names.offset, names.size, "the section names")
        func sectionName(_ s: Section) -> String? {
            guard UInt64(s.name) < UInt64(nameBytes.count) else { return nil }
            let start = nameBytes.lowerBound + Int(s.name)
            guard let end = b[start..<nameBytes.upperBound].firstIndex(of: 0) else { return nil }
            return String(decoding: b[start..<end], as: UTF8.self)
        }
        func contents(named wanted: String) throws(ImageError) -> ArraySlice<UInt8>? {
            for s in sections where s.type != 8 /* SHT_NOBITS */ && sectionName(s) == wanted {
                return b[try range(s.offset, s.size, wanted)]
            }
            return nil
        }

        // The dynamic section: DT_NEEDED names, and DT_FLAGS_1's PIE bit.
        var needed: [String] = []
        for s in sections where s.type == 6 /* SHT_DYNAMIC */ {
            let dynamic = try range(s.offset, s.size, ".dynamic")
            guard Int(s.link) < sections.count else { throw fail(.malformedELF, ".dynamic names string section \(s.link)") }
            let strings = try range(sections[Int(s.link)].offset, sections[Int(s.link)].size, ".dynstr")
            var at = dynamic.lowerBound
            while at + 16 <= dynamic.upperBound {
                let tag = try u64(at), value = try u64(at + 8)
                at += 16
                if tag == 0 { break }
                if tag == 0x6FFF_FFFB /* DT_FLAGS_1 */, value & 0x0800_0000 /* DF_1_PIE */ != 0 {
                    throw fail(.malformedELF, "a position-independent executable, not a shared object (link the TA with -shared, not -pie)")
                }
                guard tag == 1 /* DT_NEEDED */ else { continue }
                guard needed.count < Self.maxNeeded else { throw fail(.malformedELF, "more than \(Self.maxNeeded) DT_NEEDED entries") }
                guard value < UInt64(strings.count) else { throw fail(.malformedELF, "a DT_NEEDED name outside .dynstr") }
                let start = strings.lowerBound + Int(value)
                guard let end = b[start..<strings.upperBound].firstIndex(of: 0), end - start <= 255 else {
                    throw fail(.malformedELF, "a DT_NEEDED name without its end")
                }
                needed.append(String(decoding: b[start..<end], as: UTF8.self))
            }
        }
        self.needed = needed

        if let headBytes = try contents(named: ".ta_head") {
            // struct ta_head { TEE_UUID uuid; uint32_t stack_size; uint32_t flags; uint64_t depr_entry; }
            guard headBytes.count >= 32 else { throw fail(.malformedELF, ".ta_head is \(headBytes.count) bytes, not 32") }
            let at = headBytes.startIndex
            let stack = try u32(at + 16), flags = try u32(at + 20)
            guard flags & ~Flag.known == 0 else { throw fail(.malformedELF, "ta_head flags 0x\(String(flags, radix: 16)) name bits OP-TEE does not define") }
            guard (1...Self.maxStackSize).contains(stack) else { throw fail(.malformedELF, "ta_head asks for a \(stack)-byte stack (at most \(Self.maxStackSize))") }
            head = Head(uuid: Array(b[at..<(at + 16)]), stackSize: stack, flags: flags)
        } else {
            head = nil
        }
        if let record = try contents(named: ".rproc_tee_ta") {
            guard record.count >= 16, try u32(record.startIndex) == Self.recordMagic, try u32(record.startIndex + 4) == Self.recordVersion else {
                throw fail(.unsupportedVersion, ".rproc_tee_ta is not this kit's record (rebuild the TA with this rproc-tee's kit)")
            }
            let size = try u32(record.startIndex + 8)
            guard size <= Self.maxDataSize else { throw fail(.malformedELF, "the TA asks for \(size) bytes of data (at most \(Self.maxDataSize))") }
            dataSize = size
        } else {
            dataSize = nil
        }
        if requireHead {
            guard head != nil else { throw fail(.malformedELF, "no .ta_head section: not a TA built with the kit (user_ta_header.c defines it)") }
            guard dataSize != nil else { throw fail(.malformedELF, "no .rproc_tee_ta section: not a TA built with this kit") }
        }
    }

    /// "ffd2bded-ab7d-4988-95ee-e4962fff7154": how OP-TEE names a TA library (its SONAME).
    public static func isUUIDName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == 0x2D else { return false }
            } else {
                guard (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) else { return false }
            }
        }
        return true
    }
}
