import FirmwareImage
import Foundation
import TEECrypto

/// Renders a verification report for people (text) and scripts (JSON).
enum ReportFormatter {
    static func h32(_ v: some BinaryInteger) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func text(_ r: VerificationReport, file: String) -> String {
        let m = r.metadata
        var out: [String] = []
        out.append("\(file): OP-TEE remoteproc signed image, format 1")
        out.append("  header   tlv_len \(m.header.tlvLength)  sign_len \(m.header.signatureLength)  img_len \(m.header.imagesLength)  (file \(m.header.fileSize) bytes)")
        out.append("  layout   TLVs at \(h32(m.header.tlvOffset)), signature at \(h32(m.header.signatureOffset)), images at \(h32(m.header.imagesOffset))")
        switch r.signature {
        case .notChecked: out.append("  signature  \(m.signatureType.name), \(m.signature.count) bytes — not checked (no --pubkey given)")
        case .valid(let key): out.append("  signature  \(m.signatureType.name) — VALID, \(key.algorithmDescription) key \(hexString(key.fingerprint.bytes))")
        case .failed(let e): out.append("  signature  \(m.signatureType.name) — FAILED: \(e.reason)")
        }
        out.append("  TLVs")
        for record in m.records {
            out.append("    \(h32(record.offset))  \(TLVType.name(record.type).padding(toLength: 18, withPad: " ", startingAt: 0)) \(record.value.count) bytes  \(describe(record, m))")
        }
        for image in r.images {
            let name = m.manifest.names.map { " \"\(escaped($0[image.index]))\"" } ?? ""
            let version = m.manifest.versions.map { " v\($0[image.index])" } ?? ""
            out.append("  image \(image.index)\(name)\(version): file bytes [\(h32(image.fileRange.lowerBound)), \(h32(image.fileRange.upperBound)))")
            guard let elf = image.elf else {
                out.append("    ELF not readable (see problems below)")
                continue
            }
            out.append("    ELF\(elf.elfClass == .elf32 ? "32" : "64") \(ELFMachine.name(elf.machine)), entry \(h32(elf.entry)), \(elf.programHeaders.count) program headers, \(elf.sections.count) sections")
            out.append("    seg  type        offset      vaddr       paddr       filesz      memsz       flg  hash")
            for s in image.segments {
                let h = s.header
                let status = s.entry == nil ? "no entry" : !s.fieldsMatch ? "HEADER DIFFERS" : s.hashMatches == true ? "ok" : "MISMATCH"
                out.append("    \(String(h.index).padding(toLength: 4, withPad: " ", startingAt: 0)) \(h.typeName.padding(toLength: 11, withPad: " ", startingAt: 0)) \(h32(h.offset))  \(h32(h.vaddr))  \(h32(h.paddr))  \(h32(h.filesz))  \(h32(h.memsz))  \(h.flagString)  \(status)")
            }
            if let section = elf.resourceTableSection {
                out.append("    .resource_table: \(section.size) bytes at file offset \(h32(section.offset)) (sh_addr \(h32(section.addr)))")
            }
        }
        if let located = r.resourceTable {
            out.append("  resource table (image \(located.image), DA \(h32(located.deviceAddress)), in signed segment \(located.segment.index)), version \(located.table.version), \(located.table.entries.count) entries")
            for (offset, entry) in located.table.entries {
                out.append("    +\(h32(offset))  " + describe(entry))
            }
        } else {
            out.append("  resource table: none")
        }
        let manifest = m.manifest
        if !manifest.isEmpty {
            out.append("  manifest")
            if let names = manifest.names { out.append("    names             \(names.map(escaped).joined(separator: ", "))") }
            if let versions = manifest.versions { out.append("    versions          \(versions.map(\.description).joined(separator: ", "))") }
            if let counter = manifest.securityCounter { out.append("    security counter  \(counter)") }
            for d in manifest.dependencies {
                let label = { (i: Int) in manifest.names.map { escaped($0[i]) } ?? "image \(i)" }
                out.append("    dependency        \(label(d.image)) needs \(label(d.dependsOn)) ≥ \(d.minimum)")
            }
            if let boot = manifest.bootAddresses {
                for (i, b) in boot.enumerated() {
                    out.append("    boot image \(i)      secure VTOR \(b.secure.map { h32($0) } ?? "none"), non-secure VTOR \(b.nonSecure.map { h32($0) } ?? "none")")
                }
            }
        }
        if r.failures.isEmpty {
            out.append(r.signature.isChecked ? "  result: VALID" : "  result: structure and hashes OK (signature not checked)")
        } else {
            out.append("  problems (\(r.failures.count))")
            for failure in r.failures { out.append("    \(escaped("\(failure)"))") }
        }
        return out.joined(separator: "\n")
    }

    static func describe(_ record: TLVRecord, _ m: ImageMetadata) -> String {
        switch record.type {
        case TLVType.signatureType: return m.signatureType.name
        case TLVType.hashType: return "SHA-256"
        case TLVType.imageCount: return "\(m.imageCount)"
        case TLVType.imageTypes: return record.value.map { $0 == 1 ? "ELF" : "type \($0)" }.joined(separator: ", ")
        case TLVType.imageSizes: return m.imageSizes.map(String.init).joined(separator: ", ")
        case TLVType.hashTable: return "\(m.hashTable.count) entries"
        case TLVType.keyInfo:
            if let key = try? PublicKey(pemOrDER: record.value) { return "\(key.algorithmDescription) key \(hexString(key.fingerprint.bytes))" }
            return "opaque"
        default:
            if record.value.count == 4 { return h32(record.value.reversed().reduce(0) { $0 << 8 | UInt32($1) }) }
            if let s = String(validating: record.value, as: UTF8.self) { return "\"\(escaped(s))\"" }
            return hexString(record.value.prefix(32)) + (record.value.count > 32 ? "…" : "")
        }
    }

    static func describe(_ entry: ResourceTable.Entry) -> String {
        switch entry {
        case .carveout(let c): return "CARVEOUT \"\(escaped(c.name))\" da \(h32(c.da)) pa \(h32(c.pa)) len \(h32(c.length)) flags \(h32(c.flags))"
        case .devmem(let c): return "DEVMEM   \"\(escaped(c.name))\" da \(h32(c.da)) pa \(h32(c.pa)) len \(h32(c.length)) flags \(h32(c.flags))"
        case .trace(let t): return "TRACE    \"\(escaped(t.name))\" da \(h32(t.da)) len \(t.length)"
        case .vdev(let v):
            let rings = v.vrings.enumerated().map { "vring\($0.offset) da \(h32($0.element.da)) align \($0.element.align) num \($0.element.count) notifyid \($0.element.notifyID)" }
            return "VDEV     id \(v.id) notifyid \(v.notifyID) dfeatures \(h32(v.deviceFeatures)) config \(v.config.count) bytes; " + rings.joined(separator: "; ")
        case .vendor(let type, let bytes): return "VENDOR   type \(type), \(bytes.count) bytes"
        }
    }

    static func errorJSON(_ e: ImageError) -> [String: Any?] {
        ["code": e.code.rawValue, "reason": e.reason, "offset": e.offset, "image": e.image]
    }

    /// The decoded value of a TLV, as structured JSON (the `value` field of each `tlvs` entry).
    static func tlvValue(_ record: TLVRecord, _ m: ImageMetadata) -> Any? {
        switch record.type {
        case TLVType.signatureType: return ["id": Int(record.value.first ?? 0), "name": m.signatureType.name]
        case TLVType.hashType: return ["id": Int(record.value.first ?? 0), "name": "SHA-256"]
        case TLVType.imageCount: return m.imageCount
        case TLVType.imageTypes: return record.value.map { $0 == 1 ? "ELF" : "type \($0)" }
        case TLVType.imageSizes: return m.imageSizes
        case TLVType.hashTable: return ["entries": m.hashTable.count]
        case TLVType.keyInfo:
            if let key = try? PublicKey(pemOrDER: record.value) { return ["key": hexString(key.fingerprint.bytes), "algorithm": key.algorithmDescription] }
            return ["opaque": true]
        default:
            if record.value.count == 4 { return ["u32": record.value.reversed().reduce(0) { $0 << 8 | UInt32($1) }] }
            if let text = String(validating: record.value, as: UTF8.self) { return ["string": text] }
            return ["bytes": record.value.count]
        }
    }

    static func entryJSON(_ entry: ResourceTable.Entry) -> [String: Any?] {
        switch entry {
        case .carveout(let c): return ["type": "carveout", "name": c.name, "da": c.da, "pa": c.pa, "length": c.length, "flags": c.flags]
        case .devmem(let c): return ["type": "devmem", "name": c.name, "da": c.da, "pa": c.pa, "length": c.length, "flags": c.flags]
        case .trace(let t): return ["type": "trace", "name": t.name, "da": t.da, "length": t.length]
        case .vdev(let v):
            return ["type": "vdev", "id": v.id, "notify_id": v.notifyID, "device_features": v.deviceFeatures, "config_length": v.config.count,
                    "vrings": v.vrings.map { ["da": $0.da, "align": $0.align, "count": $0.count, "notify_id": $0.notifyID] as [String: Any] }]
        case .vendor(let type, let bytes): return ["type": "vendor", "vendor_type": type, "length": bytes.count]
        }
    }

    /// `inspect --json`: a stable schema. `signature` is always an object; every TLV carries its
    /// decoded `value` and its bytes in `hex` (the hash table's only through the segments);
    /// segments carry the signed hash; resource-table entries are structured.
    static func json(_ r: VerificationReport, file: String) -> [String: Any?] {
        let m = r.metadata
        var root: [String: Any?] = [
            "file": file,
            "valid": r.failures.isEmpty && r.signature.isChecked,
            "header": ["tlv_len": m.header.tlvLength, "sign_len": m.header.signatureLength, "img_len": m.header.imagesLength, "file_size": m.header.fileSize],
            "signature_type": m.signatureType.name,
            "tlvs": m.records.map { record -> [String: Any?] in
                ["offset": record.offset, "type": record.type, "name": TLVType.name(record.type), "length": record.value.count,
                 "value": tlvValue(record, m), "hex": record.type == TLVType.hashTable ? nil : hexString(record.value)]
            },
            "failures": r.failures.map(errorJSON),
        ]
        switch r.signature {
        case .notChecked: root["signature"] = ["checked": false, "valid": nil, "key": nil, "algorithm": nil, "error": nil] as [String: Any?]
        case .valid(let key): root["signature"] = ["checked": true, "valid": true, "key": hexString(key.fingerprint.bytes), "algorithm": key.algorithmDescription, "error": nil] as [String: Any?]
        case .failed(let e): root["signature"] = ["checked": true, "valid": false, "key": nil, "algorithm": nil, "error": errorJSON(e)] as [String: Any?]
        }
        root["images"] = r.images.map { image -> [String: Any?] in
            var i: [String: Any?] = ["index": image.index, "file_offset": image.fileRange.lowerBound, "size": image.fileRange.count,
                                     "name": m.manifest.names?[image.index], "version": m.manifest.versions?[image.index].description]
            if let elf = image.elf {
                i["class"] = elf.elfClass == .elf32 ? "ELF32" : "ELF64"
                i["machine"] = ["id": Int(elf.machine), "name": ELFMachine.name(elf.machine)]
                i["entry"] = elf.entry
                i["segments"] = image.segments.map { s -> [String: Any?] in
                    ["index": s.header.index, "type": s.header.typeName, "offset": s.header.offset, "vaddr": s.header.vaddr,
                     "paddr": s.header.paddr, "filesz": s.header.filesz, "memsz": s.header.memsz, "flags": s.header.flagString.replacingOccurrences(of: " ", with: ""),
                     "signed_hash": s.entry.map { hexString($0.hash) }, "header_matches": s.fieldsMatch, "hash_matches": s.hashMatches]
                }
            }
            return i
        }
        root["resource_table"] = r.resourceTable.map { located -> [String: Any?] in
            ["image": located.image, "device_address": located.deviceAddress, "size": located.section.size, "segment": located.segment.index,
             "entries": located.table.entries.map { e -> [String: Any?] in entryJSON(e.entry).merging(["offset": e.offset]) { a, _ in a } }]
        }
        let manifest = m.manifest
        root["manifest"] = manifest.isEmpty ? nil : [
            "names": manifest.names, "versions": manifest.versions?.map(\.description), "security_counter": manifest.securityCounter,
            "dependencies": manifest.dependencies.map { ["image": $0.image, "depends_on": $0.dependsOn, "minimum": $0.minimum.description] as [String: Any] },
            "boot_addresses": manifest.bootAddresses?.map { ["secure": $0.secure, "non_secure": $0.nonSecure] as [String: Any?] },
        ] as [String: Any?]
        return root
    }
}

extension VerificationReport.SignatureStatus {
    var isChecked: Bool { if case .notChecked = self { false } else { true } }
}


