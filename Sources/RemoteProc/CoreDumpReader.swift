/// Reads back what a coprocessor core dump (GET_COREDUMP) says: the registers and signal of its
/// `CORE`/NT_PRSTATUS note (Linux's 32-bit Arm `struct elf_prstatus`), the `RPROC` note's text
/// (coprocessor, state, entry, crash reason) and the memory segments. The dump is whatever the
/// secure world handed back, or a file a user points a tool at: every offset and size is checked
/// against the bytes before use, and a dump that does not add up is an error, never a trap.
public struct CoreDumpReader: Sendable {
    public struct Segment: Sendable, Equatable {
        public let deviceAddress: UInt32
        public let physicalAddress: UInt32
        public let offset: Int
        public let size: Int
        public init(deviceAddress: UInt32, physicalAddress: UInt32, offset: Int, size: Int) {
            self.deviceAddress = deviceAddress
            self.physicalAddress = physicalAddress
            self.offset = offset
            self.size = size
        }
    }

    /// r0–r15 and xPSR (from the CPSR slot), if the dump has an NT_PRSTATUS note.
    public let registers: [UInt32]?
    /// `pr_cursig`: 11 SIGSEGV (bus fault), 4 SIGILL (exception), 14 SIGALRM (watchdog), 6 SIGABRT
    /// (injected), 0 none.
    public let signal: Int
    /// The `RPROC` note's fields (`coprocessor`, `core`, `state`, `entry`, `crash`).
    public let fields: [String: String]
    public let segments: [Segment]

    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// At most this many program headers (a board has at most 256 regions, plus the note).
    public static let maxProgramHeaders = 257

    public init(bytes: [UInt8]) throws(Malformed) {
        func fail(_ why: String) -> Malformed { Malformed(description: "not a coprocessor core dump: \(why)") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24 }
        // Attacker: whoever produced the file. The header is checked before any field is read.
        guard bytes.count >= 52, bytes[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) else { throw fail("no ELF header") }
        guard bytes[4] == 1, bytes[5] == 1 else { throw fail("not little-endian ELF32") }
        guard u16(16) == 4 else { throw fail("not ET_CORE") }
        let phoff = Int(u32(28)), phentsize = u16(42), phnum = u16(44)
        guard phentsize == 32, phnum <= Self.maxProgramHeaders else { throw fail("bad program header table") }
        // Attacker: the table must lie inside the file (64-bit arithmetic: no wrap).
        guard phoff <= bytes.count, phnum * 32 <= bytes.count - phoff else { throw fail("program headers past the end") }
        var registers: [UInt32]?, signal = 0, fields: [String: String] = [:], segments: [Segment] = []
        for i in 0..<phnum {
            let h = phoff + 32 * i
            let type = u32(h), offset = Int(u32(h + 4)), size = Int(u32(h + 16))
            // Attacker: every segment must lie inside the file.
            guard offset <= bytes.count, size <= bytes.count - offset else { throw fail("segment \(i) past the end of the file") }
            if type == 1 {
                segments.append(Segment(deviceAddress: u32(h + 8), physicalAddress: u32(h + 12), offset: offset, size: size))
            } else if type == 4 {
                var at = offset
                let end = offset + size
                while at < end {
                    guard end - at >= 12 else { throw fail("truncated note header") }
                    let namesz = Int(u32(at)), descsz = Int(u32(at + 4)), ntype = u32(at + 8)
                    let nameAt = at + 12
                    // Attacker: name and descriptor (each padded to 4) must fit in the note segment.
                    guard namesz <= end - nameAt else { throw fail("note name past the segment") }
                    let descAt = nameAt + (namesz + 3) / 4 * 4
                    guard descAt <= end, descsz <= end - descAt else { throw fail("note descriptor past the segment") }
                    let name = String(decoding: bytes[nameAt..<(nameAt + namesz)].prefix { $0 != 0 }, as: UTF8.self)
                    let desc = Array(bytes[descAt..<(descAt + descsz)])
                    if name == "CORE", ntype == 1 {
                        guard desc.count >= 148 else { throw fail("NT_PRSTATUS shorter than Arm's 148 bytes") }
                        signal = Int(desc[12]) | Int(desc[13]) << 8
                        registers = (0..<17).map { r in
                            let b = 72 + 4 * r
                            return UInt32(desc[b]) | UInt32(desc[b + 1]) << 8 | UInt32(desc[b + 2]) << 16 | UInt32(desc[b + 3]) << 24
                        }
                    } else if name == "RPROC" {
                        fields = Self.fields(String(decoding: desc.prefix { $0 != 0 }, as: UTF8.self))
                    }
                    at = descAt + (descsz + 3) / 4 * 4
                }
            }
        }
        self.registers = registers
        self.signal = signal
        self.fields = fields
        self.segments = segments
    }

    /// `key=value` pairs separated by spaces; a value runs to the next ` key=` (the crash
    /// reason has spaces; it comes last).
    static func fields(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        let keys = ["coprocessor", "core", "state", "entry", "crash"]
        for (i, key) in keys.enumerated() {
            guard let start = text.range(of: (i == 0 ? "" : " ") + key + "=") else { continue }
            let rest = text[start.upperBound...]
            let next = keys[(i + 1)...].compactMap { rest.range(of: " " + $0 + "=")?.lowerBound }.min()
            out[key] = String(rest[..<(next ?? rest.endIndex)])
        }
        return out
    }

    /// "r0 0x… r1 0x… … pc 0x… xpsr 0x…", four to a line.
    public static func describe(_ registers: [UInt32]) -> [String] {
        let names = (0...12).map { "r\($0)" } + ["sp", "lr", "pc", "xpsr"]
        let cells = zip(names, registers).map { name, v in
            name.padding(toLength: 4, withPad: " ", startingAt: 0) + " 0x" + String(String(v, radix: 16).reversed()).padding(toLength: 8, withPad: "0", startingAt: 0).reversed()
        }
        return stride(from: 0, to: cells.count, by: 4).map { cells[$0..<min($0 + 4, cells.count)].joined(separator: "  ") }
    }
}
