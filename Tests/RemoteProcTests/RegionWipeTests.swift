import Foundation
import Platform
import Testing

/// Red-team L6: wiping a region costs memory only for what was written. A 256 MiB region with
/// three bytes written is wiped — those bytes are zero again, the partial pages at a range's
/// ends too — and the process's resident memory does not grow by the region's size (writing
/// every byte zero, as before, made it resident).
@Suite struct RegionWipeTests {
    static func residentBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    @Test func aWipeCostsWhatWasWritten() {
        let storage = RegionStorage(size: 256 << 20)
        let written = [12_345, 100 << 20, (256 << 20) - 1]
        for offset in written { storage.base.storeBytes(of: 0xAB, toByteOffset: offset, as: UInt8.self) }
        let before = Self.residentBytes()
        storage.zero(0..<storage.size)
        let grown = Self.residentBytes() - before
        #expect(grown < 16 << 20, "a wipe of 256 MiB with three bytes written made \(grown >> 20) MiB resident")
        for offset in written { #expect(storage.base.load(fromByteOffset: offset, as: UInt8.self) == 0, "byte \(offset) wiped") }
        // A range that starts and ends inside pages: its partial pages are zeroed in place, the
        // bytes around it kept.
        for offset in 4090..<4110 { storage.base.storeBytes(of: 0x5A, toByteOffset: offset, as: UInt8.self) }
        storage.base.storeBytes(of: 0x5A, toByteOffset: 20_000, as: UInt8.self)
        storage.zero(4095..<20_000)
        #expect(storage.base.load(fromByteOffset: 4094, as: UInt8.self) == 0x5A && storage.base.load(fromByteOffset: 20_000, as: UInt8.self) == 0x5A)
        #expect((4095..<4110).allSatisfy { storage.base.load(fromByteOffset: $0, as: UInt8.self) == 0 })
    }
}
