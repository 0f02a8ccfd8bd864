import Foundation
import FirmwareImage
import TEECrypto
import TEECore

/// A denied or impossible access to physical memory.
public struct MemoryAccessError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case unmapped, denied }
    public let kind: Kind
    public let reason: String
    public var description: String { reason }
}

/// The board at run time: physical memory as real bytes, the firewall configuration of each
/// coprocessor's regions, the windows opened to the normal world, the books of what each loaded
/// segment occupies, and the coprocessors themselves. Every access names its requester and is
/// checked against the firewall.
public final class Platform: @unchecked Sendable {
    // @unchecked: every mutable table is guarded by `lock`.
    public let board: PlatformDescription
    public private(set) var trustedKeys: TrustedKeys
    package let lock = NSLock()
    /// Each region's bytes, allocated when first written (a region never written reads as
    /// zeros and costs nothing): page-aligned anonymous memory at a fixed address, so the
    /// emulated core can map it without a copy; the kernel commits a page when it is first
    /// touched. A wipe zeroes what was written and keeps the mapping.
    private var memory: [RegionKey: RegionStorage] = [:]
    private var regionSizes: [RegionKey: Int] = [:]
    /// The span of each region written since its last wipe (every store goes through
    /// `write`, `loadSegment` or `setMemory`, which widen it): a RELEASE wipes what was
    /// written, and a region never written costs nothing to wipe.
    private var dirty: [RegionKey: Range<Int>] = [:]
    private var states: [UInt32: CoprocessorBooks] = [:]
    public private(set) var coprocessors: [UInt32: Coprocessor] = [:]

    package struct RegionKey: Hashable {
        let coprocessor: UInt32
        let region: Int
    }

    /// What the platform knows about one coprocessor's memory.
    package struct CoprocessorBooks {
        var firewall: FirewallState = .default
        var windows: [(pa: UInt64, size: UInt64, rights: Rights)] = []
        /// Windows the secure world asked for and the platform refused, with the reason: a
        /// normal-world access there is denied with that reason.
        var refusedWindows: [(pa: UInt64, size: UInt64, reason: String)] = []
        var segments: [LoadedSegment] = []
    }

    public struct LoadedSegment: Sendable, Hashable {
        public let deviceAddress: UInt64
        public let size: UInt64
        public let executable: Bool
        public let region: String
    }

    public init(board: PlatformDescription, extraTrust: TrustedKeys = TrustedKeys()) {
        self.board = board
        trustedKeys = TrustedKeys(keys: board.trustedKeys.publicKeys + extraTrust.keys,
                                  keyHashes: board.trustedKeys.keyHashes + extraTrust.keyHashes,
                                  revoked: board.trustedKeys.revoked + extraTrust.revoked)
        for c in board.coprocessors {
            for (i, r) in c.regions.enumerated() { regionSizes[RegionKey(coprocessor: c.id, region: i)] = Int(r.size) }
            states[c.id] = CoprocessorBooks()
        }
        for c in board.coprocessors { coprocessors[c.id] = Coprocessor(description: c, platform: self) }
    }

    package func description(of id: UInt32) -> CoprocessorDescription? { board.coprocessors.first { $0.id == id } }

    // MARK: Physical access (any requester)

    /// Finds the region holding [pa, pa + count) entirely.
    private func locate(pa: UInt64, count: Int) -> (key: RegionKey, region: RegionDescription, offset: Int)? {
        for c in board.coprocessors {
            for (i, r) in c.regions.enumerated() where r.containsPA(pa, size: UInt64(count)) {
                return (RegionKey(coprocessor: c.id, region: i), r, Int(pa - UInt64(r.physicalAddress)))
            }
        }
        return nil
    }

    private func rights(_ requester: Requester, key: RegionKey, region: RegionDescription, pa: UInt64, count: Int) -> Rights {
        let books = states[key.coprocessor]!
        switch requester {
        case .secure:
            return [.read, .write]
        case .normal:
            var r = region.firewall[books.firewall]!.normal
            for w in books.windows where pa >= w.pa && UInt64(count) <= w.size && pa - w.pa <= w.size - UInt64(count) { r.formUnion(w.rights) }
            return r
        case .coprocessor(let id):
            return id == key.coprocessor ? region.firewall[books.firewall]!.coprocessor : []
        }
    }

    /// Reads physical memory as `requester`. A normal-world read of firmware memory is denied.
    public func read(_ requester: Requester, pa: UInt64, count: Int) throws(MemoryAccessError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        guard count >= 0, let (key, region, offset) = locate(pa: pa, count: count) else {
            throw MemoryAccessError(kind: .unmapped, reason: "[\(hex(pa)), +\(count)) is not inside one memory region")
        }
        guard rights(requester, key: key, region: region, pa: pa, count: count).contains(.read) else {
            throw MemoryAccessError(kind: .denied, reason: "\(requester) may not read \(region.name) [\(hex(pa)), +\(count)) in the \(states[key.coprocessor]!.firewall.rawValue) firewall configuration" + refusalNote(key.coprocessor, requester, pa: pa, count: count))
        }
        return bytesLocked(key, offset..<(offset + count))
    }

    /// Writes physical memory as `requester`.
    public func write(_ requester: Requester, pa: UInt64, bytes: [UInt8]) throws(MemoryAccessError) {
        lock.lock()
        defer { lock.unlock() }
        guard let (key, region, offset) = locate(pa: pa, count: bytes.count) else {
            throw MemoryAccessError(kind: .unmapped, reason: "[\(hex(pa)), +\(bytes.count)) is not inside one memory region")
        }
        guard rights(requester, key: key, region: region, pa: pa, count: bytes.count).contains(.write) else {
            throw MemoryAccessError(kind: .denied, reason: "\(requester) may not write \(region.name) [\(hex(pa)), +\(bytes.count)) in the \(states[key.coprocessor]!.firewall.rawValue) firewall configuration")
        }
        markDirty(key, offset..<(offset + bytes.count))
        let storage = allocateLocked(key)
        bytes.withUnsafeBytes { storage.base.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }

    /// Why a normal-world access has no window, when the secure world asked for one there.
    private func refusalNote(_ id: UInt32, _ requester: Requester, pa: UInt64, count: Int) -> String {
        guard case .normal = requester, let refused = states[id]?.refusedWindows.first(where: { pa < $0.pa + $0.size && $0.pa < pa + UInt64(count) }) else { return "" }
        return "; no window was opened there: \(refused.reason)"
    }

    @discardableResult
    private func allocateLocked(_ key: RegionKey) -> RegionStorage {
        if let storage = memory[key] { return storage }
        let storage = RegionStorage(size: regionSizes[key]!)
        memory[key] = storage
        return storage
    }

    private func bytesLocked(_ key: RegionKey, _ range: Range<Int>) -> [UInt8] {
        guard let storage = memory[key] else { return [UInt8](repeating: 0, count: range.count) }
        return storage.bytes(range)
    }

    private func markDirty(_ key: RegionKey, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        if let old = dirty[key] {
            dirty[key] = min(old.lowerBound, range.lowerBound)..<max(old.upperBound, range.upperBound)
        } else {
            dirty[key] = range
        }
    }

    // MARK: Secure-world services (the platform pseudo-TA's)

    /// DA → (region, offset, PA) for coprocessor `id`; the whole range must lie in one region.
    package func translate(_ id: UInt32, da: UInt64, size: UInt64) throws(TEEResult) -> (index: Int, region: RegionDescription, offset: Int, pa: UInt64) {
        guard let c = description(of: id) else { throw .badParameters }
        for (i, r) in c.regions.enumerated() where r.containsDA(da, size: size) {
            let offset = Int(da - UInt64(r.deviceAddress))
            return (i, r, offset, UInt64(r.physicalAddress) + UInt64(offset))
        }
        throw .accessDenied
    }

    public func firewallState(of id: UInt32) -> FirewallState { lock.withLock { states[id]?.firewall ?? .default } }

    public func loadedSegments(of id: UInt32) -> [LoadedSegment] { lock.withLock { states[id]?.segments ?? [] } }

    package func applyFirewall(_ id: UInt32, _ state: FirewallState) {
        lock.withLock { states[id]?.firewall = state }
    }

    /// A window the platform will not open, and why.
    public struct WindowRefusal: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Opens exactly [da, da + size) of coprocessor `id` to the normal world with `rights`
    /// (never execute). Attacker: the signed-but-untrusted resource table names the range, so
    /// the platform decides: the range must lie wholly inside a shared region, or wholly inside
    /// one loaded non-executable segment of a region that is not secure. A refusal is recorded
    /// so that the normal world's access there is denied with the reason.
    package func openWindow(_ id: UInt32, da: UInt64, size: UInt64, rights: Rights, purpose: String) throws(WindowRefusal) {
        let rights = rights.subtracting(.execute)
        let refuse = { (why: String, pa: UInt64?) throws(WindowRefusal) -> Never in
            let reason = "the \(purpose) [DA \(hex(da)), +\(size)) \(why)"
            if let pa { self.lock.withLock { self.states[id]?.refusedWindows.append((pa, size, reason)) } }
            throw WindowRefusal(reason: reason)
        }
        guard size > 0 else { try refuse("is empty", nil) }
        guard let t = try? translate(id, da: da, size: size) else { try refuse("is not inside one memory region of the coprocessor", nil) }
        if t.region.secure { try refuse("lies in secure memory (\(t.region.name))", t.pa) }
        if !t.region.shared {
            let segments = lock.withLock { states[id]?.segments ?? [] }
            if let code = segments.first(where: { $0.executable && da < $0.deviceAddress + $0.size && $0.deviceAddress < da + size }) {
                try refuse("overlaps an executable segment (DA \(hex(code.deviceAddress)), +\(code.size))", t.pa)
            }
            guard let segment = segments.first(where: { da >= $0.deviceAddress && size <= $0.size && da - $0.deviceAddress <= $0.size - size }) else {
                try refuse("is not inside one loaded segment or a shared region", t.pa)
            }
            precondition(!segment.executable, "an executable segment overlapping the window was refused above")
        }
        lock.withLock { states[id]!.windows.append((t.pa, size, rights)) }
    }

    /// LOAD's step: the copier signals each 256 KiB it copied, and the hash follows it (when
    /// both took turns on one thread, 256 KiB — a chunk still in L2 for the hash — gave re-LOAD
    /// 0.81 → 0.84–0.85 against 1 MiB chunks).
    package static let loadChunk = 256 << 10

    /// Runs `copy` over [0, count) in `loadChunk` steps on a second thread and `then` on each
    /// step on this one once that step's copy is done, in order: the copy runs ahead (it is
    /// about five times faster than SHA-256) and the hash follows it, so a load costs about its
    /// hashing alone (32 MiB from another process: 0.81–0.87 of memcpy + SHA-256 in C when one
    /// thread copied and hashed by turns; 0.98–1.0 with the copy beside the hash). One chunk or less runs
    /// on this thread only. The copier only writes memory `then` reads after the semaphore
    /// says so (that is the happens-before edge), and this function returns after both ended.
    static func copyAhead(count: Int, copy: @escaping @Sendable (Int, Int) -> Void, then: (Int, Int) -> Void) {
        guard count > loadChunk else {
            if count > 0 {
                copy(0, count)
                then(0, count)
            }
            return
        }
        let copied = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        Self.copier.async {
            var offset = 0
            while offset < count {
                let n = min(loadChunk, count - offset)
                copy(offset, n)
                offset += n
                copied.signal()
            }
            finished.signal()
        }
        var offset = 0
        while offset < count {
            let n = min(loadChunk, count - offset)
            copied.wait()
            then(offset, n)
            offset += n
        }
        finished.wait()
    }

    /// Where a load's copy goes, for the copier thread: region storage that stays mapped while
    /// the platform lock is held (the load holds it until the copy is done).
    struct LoadTarget: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
    }

    /// The queue LOAD copies on (serial: one load's copy at a time per process; a second load
    /// waits for the first one's copy, never interleaves with it).
    static let copier = DispatchQueue(label: "rproc-tee.platform.load-copy", qos: .userInitiated)

    /// Copies `count` bytes of `source` at `sourceOffset` (shared memory, read once) to `da`, records the segment,
    /// hashes the DESTINATION and compares it in constant time with `expected`. On any failure
    /// the destination bytes are zeroed. Placement: one loadable region, no overlap with a
    /// segment already loaded, load firewall configuration applied.
    package func loadSegment(_ id: UInt32, da: UInt64, source: any SharedByteBuffer, sourceOffset: Int, count: Int, expected: [UInt8], executable: Bool) throws(TEEResult) {
        // The caller (the platform pseudo-TA) checked [sourceOffset, +count) against the buffer.
        let t = try translate(id, da: da, size: UInt64(count))
        guard t.region.loadable else { throw .accessDenied }
        let key = RegionKey(coprocessor: id, region: t.index)
        lock.lock()
        defer { lock.unlock() }
        guard states[id]!.firewall == .load else { throw .badState }
        guard !overlapsLocked(id, da: da, size: UInt64(count)) else { throw .accessDenied }
        states[id]!.segments.append(LoadedSegment(deviceAddress: da, size: UInt64(count), executable: executable, region: t.region.name))
        markDirty(key, t.offset..<(t.offset + count))
        let storage = allocateLocked(key)
        let destination = storage.base.advanced(by: t.offset)
        // Copy and hash in chunks: each chunk is hashed from the DESTINATION (private memory the
        // client cannot reach) only after it landed there, so a client changing its shared
        // bytes meanwhile only changes what was copied — which is what is hashed.
        var hasher = DigestHasher(.sha256)
        let target = LoadTarget(base: destination)
        Self.copyAhead(count: count, copy: { offset, n in
            source.copyBytes(offset: sourceOffset + offset, count: n, to: target.base + offset)
        }, then: { offset, n in
            hasher.update(buffer: UnsafeRawBufferPointer(start: destination + offset, count: n))
        })
        let actual = hasher.finalize()
        guard constantTimeEquals(actual.bytes, expected) else {
            storage.zero(t.offset..<(t.offset + count))
            throw .security
        }
    }

    /// Fills [da, da + size) with `value` (the zero-filled tail of a segment: p_memsz − p_filesz).
    package func setMemory(_ id: UInt32, da: UInt64, size: UInt64, value: UInt8, executable: Bool) throws(TEEResult) {
        let t = try translate(id, da: da, size: size)
        guard t.region.loadable else { throw .accessDenied }
        let key = RegionKey(coprocessor: id, region: t.index)
        lock.lock()
        defer { lock.unlock() }
        guard states[id]!.firewall == .load else { throw .badState }
        guard !overlapsLocked(id, da: da, size: size) else { throw .accessDenied }
        // The zero-filled tail of a segment extends the entry of its file part, so the books
        // hold one entry per ELF segment (a window may span both parts, as .data + .bss do).
        if let last = states[id]!.segments.indices.last, states[id]!.segments[last].deviceAddress + states[id]!.segments[last].size == da,
           states[id]!.segments[last].executable == executable, states[id]!.segments[last].region == t.region.name {
            let previous = states[id]!.segments[last]
            states[id]!.segments[last] = LoadedSegment(deviceAddress: previous.deviceAddress, size: previous.size + size, executable: executable, region: previous.region)
        } else {
            states[id]!.segments.append(LoadedSegment(deviceAddress: da, size: size, executable: executable, region: t.region.name))
        }
        markDirty(key, t.offset..<(t.offset + Int(size)))
        allocateLocked(key).base.advanced(by: t.offset).initializeMemory(as: UInt8.self, repeating: value, count: Int(size))
    }

    private func overlapsLocked(_ id: UInt32, da: UInt64, size: UInt64) -> Bool {
        size > 0 && states[id]!.segments.contains { s in s.size > 0 && da < s.deviceAddress + s.size && s.deviceAddress < da + size }
    }

    /// Reads loaded (verified) memory for the secure world, by device address.
    package func readLoaded(_ id: UInt32, da: UInt64, size: UInt64) throws(TEEResult) -> [UInt8] {
        let t = try translate(id, da: da, size: size)
        return lock.withLock { bytesLocked(RegionKey(coprocessor: id, region: t.index), t.offset..<(t.offset + Int(size))) }
    }

    /// Wipes every region of coprocessor `id`, forgets its segments and windows, restores the
    /// default firewall: what RELEASE and every failed load end with.
    package func release(_ id: UInt32) {
        coprocessors[id]?.powerOff()
        lock.withLock {
            guard let c = description(of: id) else { return }
            for i in c.regions.indices {
                let key = RegionKey(coprocessor: id, region: i)
                if let range = dirty.removeValue(forKey: key), let storage = memory[key] { storage.zero(range) }
            }
            states[id] = CoprocessorBooks()
        }
    }

    /// Whether every byte of coprocessor `id`'s memory is zero (tests check wipes with it).
    public func isWiped(_ id: UInt32) -> Bool {
        lock.withLock {
            guard let c = description(of: id) else { return true }
            return c.regions.indices.allSatisfy { i in memory[RegionKey(coprocessor: id, region: i)]?.isZero ?? true }
        }
    }

    /// The secure world's view of a region's bytes (for core dumps and tests).
    package func regionBytes(_ id: UInt32, region: Int) -> [UInt8] {
        lock.withLock {
            let key = RegionKey(coprocessor: id, region: region)
            return memory[key]?.bytes(0..<(regionSizes[key] ?? 0)) ?? [UInt8](repeating: 0, count: regionSizes[key] ?? 0)
        }
    }

    /// A region's memory for the emulated core to map: its fixed address, its page-rounded size,
    /// and the object that owns it (the core keeps it alive). Allocated on first use.
    /// `forWriting`: the caller (a running core) may write anywhere in the region, so all of it
    /// is wiped at the next RELEASE.
    package func regionMemory(_ id: UInt32, region: Int, forWriting: Bool = false) -> RegionStorage? {
        lock.withLock {
            let key = RegionKey(coprocessor: id, region: region)
            guard let size = regionSizes[key] else { return nil }
            if forWriting { dirty[key] = 0..<size }
            return allocateLocked(key)
        }
    }
}

/// One region's bytes: anonymous private memory mapped at a fixed, page-aligned address for the
/// platform's life (the emulated core maps it in place). Its size rounds up to whole pages; the
/// region uses the first `size` bytes.
package final class RegionStorage: @unchecked Sendable {
    // @unchecked: the platform's lock guards every access from the platform; the emulated core's
    // thread touches the bytes only while the coprocessor runs (as hardware would).
    package let base: UnsafeMutableRawPointer
    package let size: Int
    package let mappedSize: Int

    package init(size: Int) {
        self.size = size
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        mappedSize = max(page, (size + page - 1) / page * page)
        guard let p = mmap(nil, mappedSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED else {
            // Reserving address space (not memory) failed: the board's memory map cannot exist.
            fatalError("rproc-tee: cannot reserve \(mappedSize) bytes of address space for coprocessor memory")
        }
        base = p
    }

    deinit { munmap(base, mappedSize) }

    package func bytes(_ range: Range<Int>) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Zeroes `range`. Resident pages are zeroed in place (they stay resident: the next LOAD
    /// does not fault them in again — returning every page with MADV_DONTNEED made repeated
    /// 32 MiB loads 1.5× slower); pages that are not resident — never touched, or swapped out —
    /// are dropped with MADV_DONTNEED (private anonymous memory then reads as zeros), so wiping a
    /// large region the firmware never wrote costs no memory (red-team L6: 3 × 256 MiB untouched
    /// regions made one `run` peak at 822 MB when every byte was written zero).
    package func zero(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard end > first else {
            explicit_bzero(base + range.lowerBound, range.count)
            return
        }
        // The partial pages at either end, in place.
        explicit_bzero(base + range.lowerBound, first - range.lowerBound)
        explicit_bzero(base + end, range.upperBound - end)
        let pages = (end - first) / page
        var resident = [UInt8](repeating: 1, count: pages)
        guard mincore(base + first, end - first, &resident) == 0 else {
            explicit_bzero(base + first, end - first)
            return
        }
        var i = 0
        while i < pages {
            let inCore = resident[i] & 1 != 0
            var j = i + 1
            while j < pages && (resident[j] & 1 != 0) == inCore { j += 1 }
            let start = base + first + i * page, count = (j - i) * page
            if inCore || madvise(start, count, MADV_DONTNEED) != 0 { explicit_bzero(start, count) }
            i = j
        }
    }

    package var isZero: Bool {
        UnsafeRawBufferPointer(start: base, count: size).allSatisfy { $0 == 0 }
    }
}

package func hex(_ v: some BinaryInteger) -> String { "0x" + String(v, radix: 16) }
