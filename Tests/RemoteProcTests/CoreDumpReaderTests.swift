import Foundation
import RemoteProc
import Testing
import TestSupport

/// CoreDumpReader on the FuzzCoreDump seeds and crashers (Tests/Fuzz) and on hostile dumps:
/// every one is either read or refused with `Malformed`, never a trap.
@Suite struct CoreDumpReaderTests {
    static func inputs() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["Seeds", "FailCases"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/core-dump")
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                out.append((name, Array(try Data(contentsOf: dir.appendingPathComponent(name)))))
            }
        }
        return out
    }

    @Test func seedsReplay() throws {
        let cases = try Self.inputs()
        #expect(cases.count >= 3)
        for (_, bytes) in cases { _ = try? CoreDumpReader(bytes: bytes) }
        let crash = try #require(cases.first { $0.0 == "crash-m4.core" }?.1)
        let dump = try CoreDumpReader(bytes: crash)
        #expect(dump.registers?[0] == 0x2FFC_0000)
        #expect(dump.registers?[15] == 0x13C)
        #expect(dump.registers?[16] == 0x6100_0000)
        #expect(dump.signal == 11)
        #expect(dump.fields["crash"] == "bus fault: write at 0x2ffc0000 (pc 0x13c)")
        #expect(dump.fields["entry"] == "0x19")
        #expect(dump.segments == [.init(deviceAddress: 0x1000_0000, physicalAddress: 0x3000_0000, offset: crash.count - 64, size: 64)])
        #expect(CoreDumpReader.describe(dump.registers!).last == "xpsr 0x61000000")
        let plain = try CoreDumpReader(bytes: try #require(cases.first { $0.0 == "no-prstatus.core" }?.1))
        #expect(plain.registers == nil && plain.fields["crash"] == "test watchdog")
        #expect(throws: CoreDumpReader.Malformed.self) { try CoreDumpReader(bytes: try #require(cases.first { $0.0 == "truncated.core" }?.1)) }
    }

    /// Each damage to a good dump is refused with its own message.
    @Test func hostileDumpsAreRefused() throws {
        let good = try #require(try Self.inputs().first { $0.0 == "crash-m4.core" }?.1)
        func patch(_ at: Int, _ value: UInt32) -> [UInt8] {
            var b = good
            for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            return b
        }
        let rows: [(String, [UInt8], String)] = [
            ("empty", [], "no ELF header"),
            ("not ET_CORE", { var b = good; b[16] = 2; return b }(), "not ET_CORE"),
            ("big-endian", { var b = good; b[5] = 2; return b }(), "not little-endian"),
            ("program headers past the end", patch(28, 0xFFFF_FF00), "program headers past the end"),
            ("segment past the end", patch(52 + 32 + 16, 0x7FFF_FFFF), "segment 1 past the end"),
            ("note size past the file", patch(52 + 16, 0xFFFF_FFF0), "segment 0 past the end"),
            ("note name past the segment", patch(116, 0xFFFF_FFF0), "note name past the segment"),
            ("note descriptor past the segment", patch(120, 0xFFFF_FFF0), "note descriptor past the segment"),
            ("short NT_PRSTATUS", patch(120, 100), "NT_PRSTATUS shorter"),
        ]
        for (name, bytes, message) in rows {
            let error = #expect(throws: CoreDumpReader.Malformed.self, "\(name)") { try CoreDumpReader(bytes: bytes) }
            #expect(error?.description.contains(message) == true, "\(name): \(error?.description ?? "read")")
        }
    }
}
