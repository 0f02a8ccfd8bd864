import FirmwareImage
import Foundation
import Testing
import TestSupport

/// The native TA ELF reader on a TA the kit built (Examples/c-ta's counter, signed into the
/// fuzzer's seed Tests/Fuzz/Seeds/signed-ta/native-counter.ta), then damaged one named way at a
/// time: each is refused with its own error, never a crash.
@Suite struct NativeTAELFTests {
    static let elf = try! SignedTA(bytes: try! Repository.bytes("Tests/Fuzz/Seeds/signed-ta/native-counter.ta")).elf

    @Test func readsWhatTheKitWrote() throws {
        let ta = try NativeTAELF(bytes: Self.elf, requireHead: true)
        // TA_COUNTER_UUID in C's layout, TA_STACK_SIZE 4 KiB + OP-TEE's 2 KiB framework allowance.
        #expect(ta.head?.uuid == [0x2e, 0x6a, 0x1f, 0x3c, 0x4d, 0x8b, 0x1a, 0x4f, 0x9e, 0x7c, 0x5d, 0x2b, 0x8a, 0x6f, 0x4e, 0x10])
        #expect(ta.head?.stackSize == 6144)
        #expect(ta.head?.flags == NativeTAELF.Flag.singleInstance | NativeTAELF.Flag.multiSession)
        #expect(ta.dataSize == UInt32(32 * 1024))
        #expect(ta.needed.contains("libutee.so"))
        #expect(ta.neededTALibraries.isEmpty)
    }

    private func patched(_ at: Int, _ bytes: [UInt8]) -> [UInt8] {
        var b = Self.elf
        b.replaceSubrange(at..<(at + bytes.count), with: bytes)
        return b
    }

    private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    @Test func refusesDamage() throws {
        let shoff = Int(Self.elf[40]) | Int(Self.elf[41]) << 8 | Int(Self.elf[42]) << 16
        let cases: [(String, [UInt8], ImageError.Code)] = [
            ("not an ELF", [UInt8](repeating: 0x41, count: 200), .badMagic),
            ("32-bit", patched(4, [1]), .malformedELF),
            ("big-endian", patched(5, [2]), .malformedELF),
            ("an executable", patched(16, le16(2)), .malformedELF),
            ("AArch64", patched(18, le16(183)), .unsupportedMachine),
            ("no section headers", patched(60, le16(0)), .malformedELF),
            ("section headers past the end", patched(40, [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]), .segmentOutOfBounds),
            ("a section-name index past the table", patched(62, le16(0xFFFF)), .malformedELF),
            ("truncated in the section headers", Array(Self.elf.prefix(shoff + 100)), .segmentOutOfBounds),
        ]
        for (name, bytes, code) in cases {
            #expect(throws: ImageError(code, ""), "\(name)") { try NativeTAELF(bytes: bytes, requireHead: true) }
        }
        // Every prefix of the file: an error or (whole headers) a result, never a trap.
        for n in stride(from: 0, to: Self.elf.count, by: 97) {
            _ = try? NativeTAELF(bytes: Array(Self.elf.prefix(n)), requireHead: true)
        }
    }

    /// A shared object of the kit without its TA record is a library, not a TA.
    @Test func aLibraryNeedsNoHeadButATADoes() throws {
        var b = Self.elf
        // Rename the sections the reader looks for (".ta_head" → ".xa_head", ".rproc_tee_ta" → ".xproc_tee_ta").
        for name in [".ta_head", ".rproc_tee_ta"] {
            let needle = Array(name.utf8) + [0]
            guard let at = (0...(b.count - needle.count)).first(where: { Array(b[$0..<($0 + needle.count)]) == needle }) else {
                Issue.record("no \(name) in the section names")
                return
            }
            b[at + 1] = UInt8(ascii: "x")
        }
        #expect(throws: ImageError(.malformedELF, "")) { try NativeTAELF(bytes: b, requireHead: true) }
        let library = try NativeTAELF(bytes: b, requireHead: false)
        #expect(library.head == nil && library.dataSize == nil)
    }

    @Test func uuidNames() {
        #expect(NativeTAELF.isUUIDName("ffd2bded-ab7d-4988-95ee-e4962fff7154"))
        #expect(!NativeTAELF.isUUIDName("FFD2BDED-AB7D-4988-95EE-E4962FFF7154"))
        #expect(!NativeTAELF.isUUIDName("libutee.so"))
        #expect(!NativeTAELF.isUUIDName("ffd2bded-ab7d-4988-95ee-e4962fff715"))
        #expect(!NativeTAELF.isUUIDName("ffd2bded_ab7d-4988-95ee-e4962fff7154"))
    }
}
