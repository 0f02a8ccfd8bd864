import Foundation
import TEECrypto
import TEEInternalAPI

/// One persistent object's file, format v4 (README "Trusted storage", the layout below): a tree of
/// fixed-size sealed slots, so that a write costs the blocks it changes and the path above them
/// to the header, and a read authenticates only the blocks it reads.
///
/// ```
/// slot      4096 bytes: IV (12), AES-256-GCM ciphertext of a 4068-byte payload, tag (16)
///           AAD: "rproc-tee object v4", TA UUID, u64 file version, u8 level, u64 index, u8 slot
/// ref       17 bytes: u8 slot (0 absent: the subtree reads as zeros; 1 = A, 2 = B), tag (16)
///           (absent: a zero tag)
/// header    level 3 — "RPH4", u64 record size, u8 mode, then
///           mode 0 (size ≤ 4055): the record itself;  mode 1: 238 refs to level-2 nodes
/// node      levels 2 and 1 — 239 refs to the level below
/// block     level 0 — 4068 bytes of the record (block n holds bytes n·4068 ..< (n+1)·4068)
/// ```
/// zero-padded to the payload; anything else in a payload is CORRUPT_OBJECT (`ObjectFileFormat`
/// decodes canonically, fuzzed: `FuzzStorageObject`). Every node has two slots, A and B, at
/// fixed places (`ObjectFileFormat.slotIndex`: the header, then per level-2 node its two slots
/// and its level-1 groups, per level-1 node its two slots and its blocks' pairs). The directory
/// entry names the header's current slot and tag; each ref names its child's. A change writes
/// every node it touches into the slot its parent does NOT name, bottom-up, and commits by writing
/// the directory: a process killed before that leaves every slot the committed tree names as it
/// was (the old object), after it the new one — never a mix. A slot of another node, version,
/// object or TA does not authenticate in a place (its AAD), and an older copy of a slot does not
/// match its parent's tag. 238 · 239 · 239 blocks: 55 GB, more than GP's 2 GiB data position.
package enum ObjectFileFormat {
    static let slotSize = 4096
    static let ivSize = 12, tagSize = 16
    package static let payloadSize = slotSize - ivSize - tagSize
    static let refSize = 1 + tagSize
    static let fanOut = payloadSize / refSize
    package static var fanOutCount: Int { fanOut }
    static let headerMagic = Array("RPH4".utf8)
    static let headerFixed = 4 + 8 + 1
    static let headerRefs = (payloadSize - headerFixed) / refSize
    package static let inlineCapacity = payloadSize - headerFixed
    /// A record (GP metadata and data) is at most this long: data positions stop at 2^31 - 1.
    static let maxRecordSize = 1 << 32

    static let l1Group = 2 + 2 * fanOut
    static let l2Group = 2 + fanOut * l1Group

    /// The slot (a 4096-byte unit of the file) holding `slot` (1 = A, 2 = B) of node `index` of
    /// `level` (3 header, 2 and 1 index nodes, 0 blocks; indexes count across the whole level).
    static func slotIndex(level: UInt8, index: Int, slot: UInt8) -> Int {
        let s = Int(slot) - 1
        switch level {
        case 3: return s
        case 2: return 2 + index * l2Group + s
        case 1: return 2 + (index / fanOut) * l2Group + 2 + (index % fanOut) * l1Group + s
        default:
            let j = index / (fanOut * fanOut), k = (index / fanOut) % fanOut, m = index % fanOut
            return 2 + j * l2Group + 2 + k * l1Group + 2 + 2 * m + s
        }
    }

    /// Blocks a tree-mode record of `size` bytes has.
    static func blockCount(_ size: Int) -> Int { (size + payloadSize - 1) / payloadSize }

    /// A child's place in its parent: which slot, and the tag it must carry.
    struct Ref: Equatable {
        var slot: UInt8
        var tag: [UInt8]
        static let absent = Ref(slot: 0, tag: [UInt8](repeating: 0, count: tagSize))
        var isAbsent: Bool { slot == 0 }
    }

    static func ref(in table: [UInt8], at offset: Int) -> Ref {
        Ref(slot: table[offset], tag: Array(table[offset + 1..<offset + refSize]))
    }

    static func setRef(_ table: inout [UInt8], at offset: Int, _ ref: Ref) {
        table[offset] = ref.slot
        table.replaceSubrange(offset + 1..<offset + refSize, with: ref.tag)
    }

    /// Attacker: none can forge a payload (it is sealed); checked all the same, canonically: refs
    /// name slot 0, 1 or 2, an absent ref has a zero tag, the padding is zero.
    static func checkRefs(_ payload: [UInt8], count: Int, from start: Int) throws(TEEResult) {
        guard payload.count == payloadSize else { throw .corruptObject }
        for i in 0..<count {
            let at = start + i * refSize
            switch payload[at] {
            case 0: guard payload[at + 1..<at + refSize].allSatisfy({ $0 == 0 }) else { throw .corruptObject }
            case 1, 2: break
            default: throw .corruptObject
            }
        }
        guard payload[(start + count * refSize)...].allSatisfy({ $0 == 0 }) else { throw .corruptObject }
    }

    /// An index node (levels 2 and 1): its payload, checked.
    package static func checkNode(_ payload: [UInt8]) throws(TEEResult) {
        try checkRefs(payload, count: fanOut, from: 0)
    }

    static var emptyNode: [UInt8] { [UInt8](repeating: 0, count: payloadSize) }
    static func isEmpty(_ node: [UInt8]) -> Bool { node.allSatisfy { $0 == 0 } }
}

/// An object's header (level 3): the record's size and either the record (inline, up to 4055
/// bytes) or the refs of the level-2 nodes. Inline exactly when the size allows it.
package struct ObjectHeader: Equatable {
    typealias F = ObjectFileFormat
    package var size: Int
    /// The record, inline (size ≤ inlineCapacity).
    package var inline: [UInt8]?
    /// Tree mode: headerRefs refs, as stored.
    var table: [UInt8]

    static func inline(_ record: [UInt8]) -> ObjectHeader {
        ObjectHeader(size: record.count, inline: record, table: [])
    }

    static func tree(size: Int) -> ObjectHeader {
        ObjectHeader(size: size, inline: nil, table: [UInt8](repeating: 0, count: F.headerRefs * F.refSize))
    }

    func ref(_ j: Int) -> F.Ref { F.ref(in: table, at: j * F.refSize) }
    mutating func setRef(_ j: Int, _ ref: F.Ref) { F.setRef(&table, at: j * F.refSize, ref) }

    package func encoded() -> [UInt8] {
        var out = F.headerMagic
        out.reserveCapacity(F.payloadSize)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(size) >> (8 * UInt64(i)))) }
        if let inline {
            out.append(0)
            out += inline
        } else {
            out.append(1)
            out += table
        }
        return out + [UInt8](repeating: 0, count: F.payloadSize - out.count)
    }

    /// Attacker: none can forge a header (it is sealed); the decoder stands on its own all the same
    /// (`FuzzStorageObject`): a size within the format's bound, inline exactly when it fits, no
    /// level-2 ref past the last block, zero padding. Anything else: CORRUPT_OBJECT.
    package static func decode(_ payload: [UInt8]) throws(TEEResult) -> ObjectHeader {
        guard payload.count == F.payloadSize, Array(payload[0..<4]) == F.headerMagic else { throw .corruptObject }
        let size64 = payload[4..<12].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard size64 <= UInt64(F.maxRecordSize) else { throw .corruptObject }
        let size = Int(size64)
        switch payload[12] {
        case 0:
            guard size <= F.inlineCapacity, payload[(F.headerFixed + size)...].allSatisfy({ $0 == 0 }) else { throw .corruptObject }
            return .inline(Array(payload[F.headerFixed..<F.headerFixed + size]))
        case 1:
            guard size > F.inlineCapacity else { throw .corruptObject }
            try F.checkRefs(payload, count: F.headerRefs, from: F.headerFixed)
            var header = ObjectHeader.tree(size: size)
            header.table = Array(payload[F.headerFixed..<F.headerFixed + F.headerRefs * F.refSize])
            let used = (F.blockCount(size) - 1) / (F.fanOut * F.fanOut) + 1
            guard (used..<F.headerRefs).allSatisfy({ header.ref($0).isAbsent }) else { throw .corruptObject }
            return header
        default:
            throw .corruptObject
        }
    }
}

/// Authenticated index nodes and headers already read, by place and tag, with the slot's bytes as
/// they were: a slot read again with the same bytes needs no decryption. It is still read — a
/// file changed since is authenticated again, and refused (a cache must not hide an edit, or
/// the rollback of a file, from the TEE that holds it). Blocks are not kept. Bounded; emptied
/// when full.
final class NodeCache: @unchecked Sendable {
    // @unchecked: used under FileStorage's lock only.
    struct Key: Hashable {
        var file: String
        var level: UInt8
        var index: Int
        var slot: UInt8
        var tag: [UInt8]
    }
    private var nodes: [Key: (slot: [UInt8], payload: [UInt8])] = [:]
    static let capacity = 1024

    /// The payload of `key`'s slot if it held `slot` when it was authenticated.
    func get(_ key: Key, slot: [UInt8]) -> [UInt8]? {
        guard let hit = nodes[key], hit.slot == slot else { return nil }
        return hit.payload
    }

    func put(_ key: Key, slot: [UInt8], _ payload: [UInt8]) {
        if nodes.count >= Self.capacity { nodes.removeAll(keepingCapacity: true) }
        nodes[key] = (slot, payload)
    }

    func forget(file: String) { nodes = nodes.filter { $0.key.file != file } }
}

/// The operations on one open object file (under FileStorage's lock and the folder's flock).
struct ObjectFile {
    typealias F = ObjectFileFormat
    let fd: Int32
    let name: String
    let key: SecureBytes
    /// "rproc-tee object v4", the TA, the file's version.
    let aad: [UInt8]
    let cache: NodeCache

    private func nodeAAD(_ level: UInt8, _ index: Int, _ slot: UInt8) -> [UInt8] {
        aad + [level] + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(index) >> (8 * UInt64($0))) } + [slot]
    }

    private func offset(_ level: UInt8, _ index: Int, _ slot: UInt8) -> off_t {
        off_t(F.slotIndex(level: level, index: index, slot: slot)) * off_t(F.slotSize)
    }

    /// The payload `ref` names. Attacker: whoever can write the file — a slot that is missing,
    /// short, from elsewhere or older does not carry the parent's tag or does not authenticate.
    func readNode(_ level: UInt8, _ index: Int, _ ref: F.Ref) throws(TEEResult) -> [UInt8] {
        guard ref.slot == 1 || ref.slot == 2 else { throw .corruptObject }
        var slot = [UInt8](repeating: 0, count: F.slotSize)
        let n = slot.withUnsafeMutableBytes { pread(fd, $0.baseAddress, F.slotSize, offset(level, index, ref.slot)) }
        let cacheKey = NodeCache.Key(file: name, level: level, index: index, slot: ref.slot, tag: ref.tag)
        if level > 0, n == F.slotSize, let hit = cache.get(cacheKey, slot: slot) { return hit }
        guard n == F.slotSize, Array(slot[(F.slotSize - F.tagSize)...]) == ref.tag,
              let payload = FileStorage.openGCM(slot[F.ivSize..<(F.slotSize - F.tagSize)], key: key, iv: Array(slot[0..<F.ivSize]),
                                                aad: nodeAAD(level, index, ref.slot), tag: ref.tag) else {
            throw .corruptObject
        }
        if level > 0 {
            if level < 3 { try F.checkNode(payload) }
            cache.put(cacheKey, slot: slot, payload)
        }
        return payload
    }

    /// Seals `payload` as node `index` of `level` into the slot `old` does not name; its ref.
    func writeNode(_ level: UInt8, _ index: Int, old: F.Ref, _ payload: [UInt8]) throws(TEEResult) -> F.Ref {
        let slot: UInt8 = old.slot == 1 ? 2 : 1
        let bytes: [UInt8], tag: [UInt8]
        do {
            let iv = try RandomGenerator.shared.bytes(count: F.ivSize)
            let sealed = try FileStorage.sealGCM(payload, key: key, iv: iv, aad: nodeAAD(level, index, slot))
            (bytes, tag) = (iv + sealed.ciphertext + sealed.tag, sealed.tag)
        } catch {
            throw .storageNoSpace
        }
        // Half the slot, then (at a crash point) the process dies: a torn slot, which the
        // committed tree does not name.
        let at = offset(level, index, slot), half = F.slotSize / 2
        CrashPoint.step()
        var written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, half, at) }
        CrashPoint.step()
        written += bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + half, F.slotSize - half, at + off_t(half)) }
        guard written == F.slotSize else { throw .storageNoSpace }
        if level > 0 { cache.put(NodeCache.Key(file: name, level: level, index: index, slot: slot, tag: tag), slot: bytes, payload) }
        return F.Ref(slot: slot, tag: tag)
    }

    func header(_ ref: F.Ref) throws(TEEResult) -> ObjectHeader {
        try ObjectHeader.decode(try readNode(3, 0, ref))
    }

    /// Block `n` of a tree-mode object (nil: absent, zeros).
    private func block(_ h: ObjectHeader, _ n: Int) throws(TEEResult) -> [UInt8]? {
        let r2 = h.ref(n / (F.fanOut * F.fanOut))
        guard !r2.isAbsent else { return nil }
        let l2 = try readNode(2, n / (F.fanOut * F.fanOut), r2)
        let r1 = F.ref(in: l2, at: ((n / F.fanOut) % F.fanOut) * F.refSize)
        guard !r1.isAbsent else { return nil }
        let l1 = try readNode(1, n / F.fanOut, r1)
        let r0 = F.ref(in: l1, at: (n % F.fanOut) * F.refSize)
        guard !r0.isAbsent else { return nil }
        return try readNode(0, n, r0)
    }

    /// Up to `count` bytes of the record from `from` (fewer at its end).
    func read(_ h: ObjectHeader, from: Int, count: Int) throws(TEEResult) -> [UInt8] {
        let end = min(h.size, from + max(0, min(count, F.maxRecordSize)))
        guard from < end else { return [] }
        if let inline = h.inline { return Array(inline[from..<end]) }
        var out: [UInt8] = []
        out.reserveCapacity(end - from)
        var at = from
        while at < end {
            let n = at / F.payloadSize, start = n * F.payloadSize
            let upTo = min(end, start + F.payloadSize)
            if let payload = try block(h, n) {
                out += payload[(at - start)..<(upTo - start)]
            } else {
                out += repeatElement(0, count: upTo - at)
            }
            at = upTo
        }
        return out
    }

    /// The object with `bytes` written at `offset` (a gap past the end reads as zeros) and then
    /// cut or zero-extended to `newSize` — written, up to its new header, which is returned with
    /// its ref (the caller commits it). `headerRef`: the committed header's (absent: a new file).
    func rewrite(_ h: ObjectHeader, headerRef: F.Ref, newSize: Int, patch: (offset: Int, bytes: [UInt8])?) throws(TEEResult) -> (ObjectHeader, F.Ref) {
        guard newSize <= F.maxRecordSize else { throw .storageNoSpace }
        var next: ObjectHeader
        if newSize <= F.inlineCapacity {
            var record = try read(h, from: 0, count: newSize)
            record += repeatElement(0, count: newSize - record.count)
            if let (offset, bytes) = patch, !bytes.isEmpty { record.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
            next = .inline(record)
        } else {
            var tree = h, blocks: [Int: [UInt8]] = [:]
            if let inline = h.inline {
                // Inline to tree: the record so far is block 0.
                tree = .tree(size: h.size)
                if !inline.isEmpty { blocks[0] = inline + repeatElement(0, count: F.payloadSize - inline.count) }
            }
            func current(_ n: Int) throws(TEEResult) -> [UInt8] {
                if let b = blocks[n] { return b }
                return try block(tree, n) ?? F.emptyNode
            }
            if let (offset, bytes) = patch, !bytes.isEmpty {
                for n in (offset / F.payloadSize)...((offset + bytes.count - 1) / F.payloadSize) {
                    let start = n * F.payloadSize
                    let lo = max(offset, start), hi = min(offset + bytes.count, start + F.payloadSize)
                    if lo == start && hi == start + F.payloadSize {
                        blocks[n] = Array(bytes[(lo - offset)..<(hi - offset)])
                    } else {
                        var payload = try current(n)
                        payload.replaceSubrange((lo - start)..<(hi - start), with: bytes[(lo - offset)..<(hi - offset)])
                        blocks[n] = payload
                    }
                }
            }
            let last = F.blockCount(newSize) - 1
            let shrinks = newSize < tree.size
            if shrinks, newSize - last * F.payloadSize < F.payloadSize {
                // The last block keeps zeros past the end (a later extension reads them).
                var payload = try current(last)
                for i in (newSize - last * F.payloadSize)..<F.payloadSize { payload[i] = 0 }
                blocks[last] = payload
            }
            next = try commitBlocks(tree, newSize: newSize, blocks: blocks, trim: shrinks)
        }
        return (next, try writeNode(3, 0, old: headerRef, next.encoded()))
    }

    /// Writes `blocks` (block index → payload) and the index nodes above them, and with `trim` the
    /// path of the new last block with every ref past it cleared; the new tree header.
    private func commitBlocks(_ h: ObjectHeader, newSize: Int, blocks: [Int: [UInt8]], trim: Bool) throws(TEEResult) -> ObjectHeader {
        let f = F.fanOut, last = F.blockCount(newSize) - 1
        var next = h
        next.size = newSize
        var byL1: [Int: [Int]] = [:]
        for n in blocks.keys where n <= last { byL1[n / f, default: []].append(n) }
        if trim { byL1[last / f, default: []] += [] }
        var byL2: [Int: [Int]] = [:]
        for l1 in byL1.keys { byL2[l1 / f, default: []].append(l1) }
        if trim { byL2[last / (f * f), default: []] += [] }
        for j in byL2.keys.sorted() {
            let r2 = h.ref(j)
            var l2 = r2.isAbsent ? F.emptyNode : try readNode(2, j, r2)
            for l1Index in (byL2[j] ?? []).sorted() {
                let r1 = F.ref(in: l2, at: (l1Index % f) * F.refSize)
                var l1 = r1.isAbsent ? F.emptyNode : try readNode(1, l1Index, r1)
                for n in (byL1[l1Index] ?? []).sorted() {
                    let r0 = F.ref(in: l1, at: (n % f) * F.refSize)
                    F.setRef(&l1, at: (n % f) * F.refSize, try writeNode(0, n, old: r0, blocks[n]!))
                }
                if trim && l1Index == last / f {
                    for i in ((last % f) + 1) * F.refSize..<F.payloadSize { l1[i] = 0 }
                }
                F.setRef(&l2, at: (l1Index % f) * F.refSize, F.isEmpty(l1) ? .absent : try writeNode(1, l1Index, old: r1, l1))
            }
            if trim && j == last / (f * f) {
                let keep = ((last / f) % f) + 1
                for i in keep * F.refSize..<F.payloadSize { l2[i] = 0 }
            }
            next.setRef(j, F.isEmpty(l2) ? .absent : try writeNode(2, j, old: r2, l2))
        }
        if trim {
            for j in (last / (f * f) + 1)..<F.headerRefs { next.setRef(j, .absent) }
        }
        return next
    }

    /// The file's length once `h` is committed: what lies past it belongs to no node.
    static func extent(_ h: ObjectHeader) -> off_t {
        guard h.inline == nil else { return off_t(2 * F.slotSize) }
        return off_t(F.slotIndex(level: 0, index: F.blockCount(h.size) - 1, slot: 2) + 1) * off_t(F.slotSize)
    }
}
