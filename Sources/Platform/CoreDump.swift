/// An ELF32 core file of a coprocessor's memories: one PT_NOTE with the coprocessor's state and
/// one PT_LOAD per memory region (p_vaddr = device address, p_paddr = physical address), as
/// `gdb` and Linux's remoteproc coredump lay them out.
package enum CoreDump {
    package static func build(coprocessor: Coprocessor, regions: [(RegionDescription, [UInt8])]) -> [UInt8] {
        let c = coprocessor.description
        var note: [UInt8] = []
        let name = Array("RPROC".utf8) + [0]
        let text = Array("coprocessor=\(c.name) core=\(c.core) state=\(coprocessor.state.rawValue) entry=\(hex(coprocessor.entryPoint)) crash=\(coprocessor.crashReason ?? "none")".utf8) + [0]
        func u32(_ v: UInt32, _ into: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { into.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
        func u16(_ v: UInt16, _ into: inout [UInt8]) { into.append(UInt8(v & 0xFF)); into.append(UInt8(v >> 8)) }
        func pad4(_ b: inout [UInt8]) { while b.count % 4 != 0 { b.append(0) } }
        u32(UInt32(name.count), &note); u32(UInt32(text.count), &note); u32(1, &note)
        note += name; pad4(&note)
        note += text; pad4(&note)

        let phnum = 1 + regions.count
        let headerSize = 52 + 32 * phnum
        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        u16(4, &out)                                               // ET_CORE
        u16(c.elfMachines.min() ?? 40, &out)
        u32(1, &out); u32(0, &out); u32(52, &out); u32(0, &out); u32(0, &out)
        u16(52, &out); u16(32, &out); u16(UInt16(phnum), &out); u16(40, &out); u16(0, &out); u16(0, &out)
        var offset = UInt32(headerSize)
        u32(4, &out); u32(offset, &out); u32(0, &out); u32(0, &out); u32(UInt32(note.count), &out); u32(0, &out); u32(0, &out); u32(4, &out)
        offset += UInt32(note.count)
        for (region, bytes) in regions {
            u32(1, &out); u32(offset, &out); u32(region.deviceAddress, &out); u32(region.physicalAddress, &out)
            u32(UInt32(bytes.count), &out); u32(UInt32(bytes.count), &out); u32(region.loadable ? 7 : 6, &out); u32(4, &out)
            offset += UInt32(bytes.count)
        }
        out += note
        for (_, bytes) in regions { out += bytes }
        return out
    }
}
