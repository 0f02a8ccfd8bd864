/// What an ELF reader accepts: which machines and whether ELF64 is allowed. A platform narrows
/// it per coprocessor.
public struct ELFPolicy: Sendable, Hashable {
    public var machines32: Set<UInt16>
    public var machines64: Set<UInt16>

    public init(machines32: Set<UInt16> = [ELFMachine.arm, ELFMachine.riscv], machines64: Set<UInt16> = []) {
        self.machines32 = machines32
        self.machines64 = machines64
    }

    /// ELF32 for Arm or RISC-V: what remoteproc firmware is (spec/image-format.md §6).
    public static let firmware = ELFPolicy()
    /// Also ELF64 for AArch64 and RISC-V.
    public static let firmwareAnd64 = ELFPolicy(machines64: [ELFMachine.aarch64, ELFMachine.riscv])
}

public enum ELFMachine {
    public static let arm: UInt16 = 40
    public static let aarch64: UInt16 = 183
    public static let riscv: UInt16 = 243

    public static func name(_ machine: UInt16) -> String {
        switch machine {
        case arm: "ARM"
        case aarch64: "AArch64"
        case riscv: "RISC-V"
        default: "machine \(machine)"
        }
    }
}

/// One program header, widened to 64 bits for both classes.
public struct ProgramHeader: Hashable, Sendable {
    public static let typeLoad: UInt32 = 1
    public static let flagExecute: UInt32 = 1
    public static let flagWrite: UInt32 = 2
    public static let flagRead: UInt32 = 4

    public var index: Int
    public var type: UInt32
    public var offset: UInt64
    public var vaddr: UInt64
    public var paddr: UInt64
    public var filesz: UInt64
    public var memsz: UInt64
    public var flags: UInt32
    public var align: UInt64

    public var isLoad: Bool { type == Self.typeLoad }
    public var isExecutable: Bool { flags & Self.flagExecute != 0 }

    /// `PT_LOAD`, `PT_ARM_EXIDX`, … for people.
    public var typeName: String {
        switch type {
        case 0: "NULL"
        case 1: "LOAD"
        case 2: "DYNAMIC"
        case 3: "INTERP"
        case 4: "NOTE"
        case 6: "PHDR"
        case 7: "TLS"
        case 0x6474_e551: "GNU_STACK"
        case 0x6474_e552: "GNU_RELRO"
        case 0x7000_0001: "ARM_EXIDX"
        case 0x7000_0003: "RISCV_ATTRIBUTES"
        default: hex(type)
        }
    }

    /// `R X`, `RW `, …
    public var flagString: String {
        (flags & Self.flagRead != 0 ? "R" : " ") + (flags & Self.flagWrite != 0 ? "W" : " ") + (flags & Self.flagExecute != 0 ? "X" : " ")
    }
}

/// A section header with its name resolved through `.shstrtab`.
public struct SectionHeader: Hashable, Sendable {
    public static let typeNoBits: UInt32 = 8

    public var index: Int
    public var name: String
    public var type: UInt32
    public var flags: UInt64
    public var addr: UInt64
    public var offset: UInt64
    public var size: UInt64
}

/// A parsed and validated ELF executable (spec/image-format.md §6). Every field is read through
/// bounds checks from the image bytes; nothing is trusted until the caller has matched the
/// program headers against a signed hash table.
public struct ELFImage: Sendable {
    public enum ELFClass: Sendable { case elf32, elf64 }

    public let elfClass: ELFClass
    public let machine: UInt16
    public let entry: UInt64
    public let programHeaders: [ProgramHeader]
    public let sections: [SectionHeader]
    /// Size in bytes of the ELF file this was parsed from.
    public let size: Int
    /// One past the last byte a header refers to (ELF header, program and section header
    /// tables, segment and section file bytes). What follows, up to `size`, is padding.
    public let extent: Int

    public var loadSegments: [ProgramHeader] { programHeaders.filter(\.isLoad) }

    /// The section named exactly `.resource_table`, if there is one.
    public var resourceTableSection: SectionHeader? { sections.first { $0.name == ".resource_table" } }

    /// The loadable segment whose file bytes hold `section` entirely, if any.
    public func segment(containing section: SectionHeader) -> ProgramHeader? {
        loadSegments.first { segment in
            section.offset >= segment.offset && section.size <= segment.filesz
                && section.offset - segment.offset <= segment.filesz - section.size
        }
    }

    private static let maxProgramHeaders = 1024
    private static let maxSections = 4096

    /// Parses and validates `bytes`, a whole ELF file.
    public init(bytes: [UInt8], policy: ELFPolicy = .firmware) throws {
        try self.init(bytes: bytes[...], policy: policy)
    }

    /// Parses and validates an ELF file that is a slice of a larger buffer (an image inside a
    /// signed container), without copying it: only the headers and tables are copied out.
    /// Offsets in errors are relative to the start of the slice.
    public init(bytes image: ArraySlice<UInt8>, policy: ELFPolicy = .firmware) throws {
        try self.init(source: SliceSource(slice: image), policy: policy)
    }

    /// Parses an ELF file read through `source`: the header, program headers, section headers
    /// and `.shstrtab` are each copied out once and only the copies are parsed, so a source
    /// that changes underneath (shared memory) cannot make the parser see two versions.
    public init(source bytes: some ImageByteSource, policy: ELFPolicy = .firmware) throws {
        var r = ByteReader(try bytes.bytes(at: 0, count: min(64, bytes.count)))
        // Attacker-controlled: every header field below. Each is checked before use.
        let magic = try r.take(4, "e_ident magic")
        guard magic == [0x7F, 0x45, 0x4C, 0x46] else { throw ImageError(.malformedELF, "not an ELF file (bad magic)", offset: 0) }
        let elfClass: ELFClass
        switch try r.u8("EI_CLASS") {
        case 1: elfClass = .elf32
        case 2: elfClass = .elf64
        case let c: throw ImageError(.malformedELF, "EI_CLASS \(c) is neither ELF32 nor ELF64", offset: 4)
        }
        guard try r.u8("EI_DATA") == 1 else { throw ImageError(.malformedELF, "not little-endian (EI_DATA must be 1)", offset: 5) }
        guard try r.u8("EI_VERSION") == 1 else { throw ImageError(.malformedELF, "EI_VERSION must be 1", offset: 6) }
        try r.skip(9, "e_ident padding")
        let type = try r.u16("e_type")
        guard type == 2 else { throw ImageError(.malformedELF, "e_type \(type) is not ET_EXEC (2): firmware must be a linked executable", offset: 16) }
        let machine = try r.u16("e_machine")
        let allowed = elfClass == .elf32 ? policy.machines32 : policy.machines64
        guard allowed.contains(machine) else {
            let classText = elfClass == .elf32 ? "ELF32" : "ELF64"
            throw ImageError(.unsupportedMachine, "\(classText) \(ELFMachine.name(machine)) is not accepted here (accepted: \(allowed.sorted().map(ELFMachine.name).joined(separator: ", ")))", offset: 18)
        }
        guard try r.u32("e_version") == 1 else { throw ImageError(.malformedELF, "e_version must be 1", offset: 20) }
        let is32 = elfClass == .elf32
        let entry = is32 ? UInt64(try r.u32("e_entry")) : try r.u64("e_entry")
        let phoff = is32 ? UInt64(try r.u32("e_phoff")) : try r.u64("e_phoff")
        let shoff = is32 ? UInt64(try r.u32("e_shoff")) : try r.u64("e_shoff")
        _ = try r.u32("e_flags")
        let ehsizeOffset = r.fileOffset
        let ehsize = try r.u16("e_ehsize")
        guard Int(ehsize) == (is32 ? 52 : 64) else { throw ImageError(.malformedELF, "e_ehsize \(ehsize) is wrong for the class", offset: ehsizeOffset) }
        let phentsizeOffset = r.fileOffset
        let phentsize = try r.u16("e_phentsize")
        let phnum = try r.u16("e_phnum")
        let shentsizeOffset = r.fileOffset
        let shentsize = try r.u16("e_shentsize")
        let shnum = try r.u16("e_shnum")
        let shstrndx = try r.u16("e_shstrndx")

        guard Int(phentsize) == (is32 ? 32 : 56) else {
            throw ImageError(.malformedELF, "e_phentsize \(phentsize) is wrong (ELF32: 32, ELF64: 56)", offset: phentsizeOffset)
        }
        guard phnum > 0 else { throw ImageError(.noLoadableSegment, "no program headers", offset: phentsizeOffset + 2) }
        guard Int(phnum) <= Self.maxProgramHeaders else {
            throw ImageError(.malformedELF, "e_phnum \(phnum) is more than \(Self.maxProgramHeaders) (PN_XNUM is not supported)", offset: phentsizeOffset + 2)
        }
        // Attacker-controlled: e_phoff + e_phnum × e_phentsize, in 64-bit arithmetic that cannot
        // wrap (both products are < 2^32 and e_phoff < 2^64 is compared before adding).
        let phTableSize = UInt64(phnum) * UInt64(phentsize)
        guard phoff <= UInt64(bytes.count), phTableSize <= UInt64(bytes.count) - phoff else {
            throw ImageError(.segmentOutOfBounds, "program header table (e_phoff \(hex(phoff)), \(phnum) × \(phentsize)) runs past the image (\(bytes.count) bytes)", offset: is32 ? 28 : 32)
        }

        var headers: [ProgramHeader] = []
        headers.reserveCapacity(Int(phnum))
        for index in 0..<Int(phnum) {
            let at = Int(phoff) + index * Int(phentsize)
            var p = ByteReader(try bytes.bytes(at: at, count: Int(phentsize)), base: at)
            var h: ProgramHeader
            if is32 {
                h = ProgramHeader(index: index, type: try p.u32("p_type"), offset: UInt64(try p.u32("p_offset")),
                                  vaddr: UInt64(try p.u32("p_vaddr")), paddr: UInt64(try p.u32("p_paddr")),
                                  filesz: UInt64(try p.u32("p_filesz")), memsz: UInt64(try p.u32("p_memsz")),
                                  flags: try p.u32("p_flags"), align: UInt64(try p.u32("p_align")))
            } else {
                let type = try p.u32("p_type"), flags = try p.u32("p_flags")
                h = ProgramHeader(index: index, type: type, offset: try p.u64("p_offset"), vaddr: try p.u64("p_vaddr"),
                                  paddr: try p.u64("p_paddr"), filesz: try p.u64("p_filesz"), memsz: try p.u64("p_memsz"),
                                  flags: flags, align: try p.u64("p_align"))
            }
            try Self.check(h, imageSize: bytes.count, addressLimit: is32 ? UInt64(UInt32.max) + 1 : nil, at: at)
            headers.append(h)
        }
        let loads = headers.filter(\.isLoad)
        guard !loads.isEmpty else { throw ImageError(.noLoadableSegment, "no PT_LOAD segment", offset: Int(phoff)) }
        try Self.checkNoOverlap(loads.map { (image: 0, header: $0) })

        // The entry point: inside the file-backed part of an executable loaded segment. On Arm
        // bit 0 marks Thumb code and is not part of the address.
        let entryAddress = machine == ELFMachine.arm ? entry & ~1 : entry
        guard loads.contains(where: { $0.isExecutable && entryAddress >= $0.vaddr && entryAddress - $0.vaddr < $0.filesz }) else {
            throw ImageError(.badEntryPoint, "entry point \(hex(entry)) is not inside an executable loaded segment", offset: 24)
        }

        self.elfClass = elfClass
        self.machine = machine
        self.entry = entry
        self.programHeaders = headers
        self.size = bytes.count
        self.sections = try Self.parseSections(bytes, is32: is32, shoff: shoff, shentsize: shentsize, shnum: shnum,
                                               shstrndx: shstrndx, shentsizeOffset: shentsizeOffset)
        // Every range below was checked to lie inside the image, so none of these sums wraps.
        var extent = UInt64(ehsize), tableEnd = phoff + phTableSize
        extent = max(extent, tableEnd)
        if shnum > 0 { extent = max(extent, shoff + UInt64(shnum) * UInt64(shentsize)) }
        for h in headers { extent = max(extent, h.offset + h.filesz) }
        for section in sections where section.type != SectionHeader.typeNoBits { extent = max(extent, section.offset + section.size) }
        self.extent = Int(extent)
        let tables = sections.filter { $0.name == ".resource_table" }
        guard tables.count <= 1 else {
            throw ImageError(.multipleResourceTables, "\(tables.count) sections are named .resource_table", offset: Int(shoff))
        }
    }

    /// The bytes after `extent` (the padding up to the image's 8-byte-rounded IMGSIZE, and any
    /// slack a header does not account for) must be zero (spec/image-format.md §1), read
    /// through `source` in bounded chunks.
    public func checkPadding(_ source: some ImageByteSource) throws {
        var at = extent
        while at < source.count {
            let chunk = try source.bytes(at: at, count: min(64 * 1024, source.count - at))
            if let i = chunk.firstIndex(where: { $0 != 0 }) {
                throw ImageError(.nonZeroPadding, "byte \(at + i) after the ELF's last referenced byte (\(extent)) is not zero: padding must be zero", offset: at + i)
            }
            at += chunk.count
        }
    }

    private static func check(_ h: ProgramHeader, imageSize: Int, addressLimit: UInt64?, at: Int) throws {
        let name = "program header \(h.index) (\(h.typeName))"
        // Attacker-controlled: p_offset and p_filesz. Compared without adding first.
        guard h.offset <= UInt64(imageSize), h.filesz <= UInt64(imageSize) - h.offset else {
            throw ImageError(.segmentOutOfBounds, "\(name): file bytes [\(hex(h.offset)), +\(hex(h.filesz))) run past the image (\(imageSize) bytes)", offset: at)
        }
        guard h.filesz <= h.memsz else {
            throw ImageError(.badSegmentSize, "\(name): p_filesz \(hex(h.filesz)) > p_memsz \(hex(h.memsz))", offset: at)
        }
        // Attacker-controlled: p_paddr/p_vaddr + p_memsz. Must not wrap the address space.
        for (field, address) in [("p_paddr", h.paddr), ("p_vaddr", h.vaddr)] {
            let (end, overflow) = address.addingReportingOverflow(h.memsz)
            if overflow || (addressLimit.map { end > $0 } ?? false) {
                throw ImageError(.addressWraps, "\(name): \(field) \(hex(address)) + p_memsz \(hex(h.memsz)) wraps the address space", offset: at)
            }
        }
    }

    /// No two loadable segments may share a byte of device address space (by p_paddr, which
    /// is what the loader uses), within one image or across the images of a bundle.
    public static func checkNoOverlap(_ segments: [(image: Int, header: ProgramHeader)]) throws {
        let sorted = segments.filter { $0.header.memsz > 0 }.sorted { $0.header.paddr < $1.header.paddr }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.header.paddr - a.header.paddr < a.header.memsz {
            let where_ = a.image == b.image ? "" : " (images \(a.image) and \(b.image))"
            throw ImageError(.overlappingSegments, "segments \(a.header.index) [\(hex(a.header.paddr)), +\(hex(a.header.memsz))) and \(b.header.index) [\(hex(b.header.paddr)), +\(hex(b.header.memsz))) overlap\(where_)", image: b.image)
        }
    }

    private static func parseSections(_ bytes: some ImageByteSource, is32: Bool, shoff: UInt64, shentsize: UInt16, shnum: UInt16, shstrndx: UInt16, shentsizeOffset: Int) throws -> [SectionHeader] {
        guard shnum > 0 else { return [] }
        guard Int(shentsize) == (is32 ? 40 : 64) else {
            throw ImageError(.malformedELF, "e_shentsize \(shentsize) is wrong (ELF32: 40, ELF64: 64)", offset: shentsizeOffset)
        }
        guard Int(shnum) <= maxSections else { throw ImageError(.malformedELF, "e_shnum \(shnum) is more than \(maxSections)", offset: shentsizeOffset + 2) }
        // Attacker-controlled: e_shoff + e_shnum × e_shentsize, checked without wrapping.
        let tableSize = UInt64(shnum) * UInt64(shentsize)
        guard shoff <= UInt64(bytes.count), tableSize <= UInt64(bytes.count) - shoff else {
            throw ImageError(.segmentOutOfBounds, "section header table (e_shoff \(hex(shoff)), \(shnum) × \(shentsize)) runs past the image", offset: is32 ? 32 : 40)
        }
        // Attacker-controlled: e_shstrndx must name a section (SHN_XINDEX is not supported).
        guard shstrndx < shnum else {
            throw ImageError(.malformedELF, "e_shstrndx \(shstrndx) is not a section index (e_shnum \(shnum))", offset: shentsizeOffset + 4)
        }
        var raw: [(nameOffset: UInt32, header: SectionHeader)] = []
        for index in 0..<Int(shnum) {
            let at = Int(shoff) + index * Int(shentsize)
            var s = ByteReader(try bytes.bytes(at: at, count: Int(shentsize)), base: at)
            let nameOffset = try s.u32("sh_name"), type = try s.u32("sh_type")
            let flags = is32 ? UInt64(try s.u32("sh_flags")) : try s.u64("sh_flags")
            let addr = is32 ? UInt64(try s.u32("sh_addr")) : try s.u64("sh_addr")
            let offset = is32 ? UInt64(try s.u32("sh_offset")) : try s.u64("sh_offset")
            let size = is32 ? UInt64(try s.u32("sh_size")) : try s.u64("sh_size")
            let header = SectionHeader(index: index, name: "", type: type, flags: flags, addr: addr, offset: offset, size: size)
            // Attacker-controlled: a section's file range (NOBITS sections have none). Section 0
            // is checked too: e_shstrndx may name it.
            if type != SectionHeader.typeNoBits {
                guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                    throw ImageError(.segmentOutOfBounds, "section \(index): bytes [\(hex(offset)), +\(hex(size))) run past the image", offset: at)
                }
            }
            raw.append((nameOffset, header))
        }
        let strtab = raw[Int(shstrndx)].header
        guard strtab.type == 3 else { throw ImageError(.malformedELF, "section \(shstrndx) named by e_shstrndx is not a string table", offset: shentsizeOffset + 4) }
        let names = try bytes.bytes(at: Int(strtab.offset), count: Int(strtab.size))
        return try raw.map { entry in
            var header = entry.header
            // Attacker-controlled: sh_name, an offset into .shstrtab whose string must end in it.
            let start = Int(entry.nameOffset)
            guard start < names.count || (start == 0 && names.isEmpty) else {
                throw ImageError(.malformedELF, "section \(header.index): sh_name \(start) is outside .shstrtab (\(names.count) bytes)", offset: Int(shoff) + header.index * Int(shentsize))
            }
            guard let end = names[start...].firstIndex(of: 0) ?? (names.isEmpty ? start : nil) else {
                throw ImageError(.malformedELF, "section \(header.index): name is not NUL-terminated inside .shstrtab", offset: Int(shoff) + header.index * Int(shentsize))
            }
            header.name = String(decoding: names[start..<end], as: UTF8.self)
            return header
        }
    }
}

/// Random access to the bytes of an image, addressed from zero. The parsers check every range
/// before asking; `bytes(at:count:)` returns a private copy.
public protocol ImageByteSource {
    var count: Int { get }
    func bytes(at offset: Int, count: Int) throws -> [UInt8]
}

/// A slice of a file addressed from zero.
struct SliceSource: ImageByteSource {
    let slice: ArraySlice<UInt8>
    var count: Int { slice.count }
    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        let start = slice.startIndex + offset
        return Array(slice[start..<(start + count)])
    }
}
