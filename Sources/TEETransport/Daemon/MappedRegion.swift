#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
import TEECore

/// A memfd both processes map (MAP_SHARED): the client's shared memory, which the secure world
/// reaches without a copy of the whole (a TA reads what it needs, once). The mapping lives as
/// long as this object: a region removed from a table while a call still holds a reference stays
/// mapped until that call ends.
public final class MappedRegion: SharedByteBuffer, @unchecked Sendable {
    // @unchecked: the mapping is fixed for the object's life; concurrent access to the bytes is
    // the point of shared memory (every reader copies what it validates).
    public let count: Int
    let base: UnsafeMutableRawPointer
    let mappedLength: Int
    /// The descriptor, kept by the side that created the region (to pass it on); -1 otherwise.
    public private(set) var fd: Int32

    /// Maps `length` bytes of `fd` (which must be at least that long). Takes ownership of `fd`
    /// only if `keepDescriptor`; otherwise the caller closes it.
    init(fd: Int32, count: Int, keepDescriptor: Bool) throws(TransportError) {
        let length = max(count, 1)
        guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw TransportError(.outOfMemory, "mmap of \(count) bytes failed: \(String(cString: strerror(errno)))")
        }
        self.base = p
        self.count = count
        self.mappedLength = length
        self.fd = keepDescriptor ? fd : -1
    }

    /// A fresh sealed memfd of `count` bytes, mapped (the client side).
    public static func create(count: Int, name: String) throws(TransportError) -> MappedRegion {
        guard count >= 0, count <= Int(Int32.max) else { throw TransportError(.outOfMemory, "\(count) bytes is not a shared-memory size") }
        return try fresh(count: count, name: name) { cteep_memfd_seal($0) }
    }

    /// A window for a TA host (the core side): a fresh memfd of `count` bytes, mapped here,
    /// sealed against shrinking and growing; `finishWindow` adds the last seals once the core
    /// has copied the call's bytes in.
    public static func window(count: Int) throws(TransportError) -> MappedRegion {
        guard count > 0, count <= Int(Int32.max) else { throw TransportError(.outOfMemory, "\(count) bytes is not a window size") }
        return try fresh(count: count, name: "rproc-tee-window") { cteep_memfd_seal_size($0) }
    }

    /// A memfd of `count` bytes (at least one), sealed by `seal`, mapped; the region keeps it.
    private static func fresh(count: Int, name: String, seal: (Int32) -> Int32) throws(TransportError) -> MappedRegion {
        let fd = cteep_memfd_create(name)
        guard fd >= 0 else { throw TransportError(.outOfMemory, "memfd_create failed: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(max(count, 1))) == 0, seal(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TransportError(.outOfMemory, "cannot size a \(count)-byte memfd: \(reason)")
        }
        do {
            return try MappedRegion(fd: fd, count: count, keepDescriptor: true)
        } catch {
            close(fd)
            throw error
        }
    }

    /// `count` bytes from `offset` of `source` into this region at `at`: in the kernel between
    /// the two memfds when both sides hold theirs (nothing is mapped or faulted in this
    /// process), else through the mappings.
    public func fill(from source: MappedRegion, offset: Int, count: Int, at: Int = 0) {
        precondition(offset >= 0 && count >= 0 && offset <= source.count - count && at >= 0 && at <= self.count - count, "copy out of range")
        if source.fd >= 0, fd >= 0, count >= 64 << 10, cteep_copy_range(source.fd, UInt64(offset), fd, UInt64(at), count) == 0 { return }
        source.copyBytes(offset: offset, count: count, to: base + at)
    }

    /// Seals a window for good: no more seals, and — unless the TA may write it — no writable
    /// mapping or write() through any descriptor from now on (this side's mapping stays).
    public func finishWindow(writable: Bool) throws(TransportError) {
        guard fd >= 0, cteep_memfd_seal_final(fd, writable ? 1 : 0) == 0 else {
            throw TransportError(.outOfMemory, "cannot seal a window: \(String(cString: strerror(errno)))")
        }
    }

    /// Maps the caller's own memfd (`TEEC_RegisterSharedMemoryFileDescriptor`), sealing it
    /// against shrinking, growing and any further seal first (a write seal added later would
    /// make the TA's writable mapping fail); the region keeps a duplicate of the descriptor to
    /// pass on, the caller keeps `fd`.
    public static func mapCallers(fd: Int32, count: Int) throws(TransportError) -> MappedRegion {
        guard count >= 0, count <= Int(Int32.max) else { throw TransportError(.badRegion, "\(count) bytes is not a shared-memory size") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) >= max(count, 1) else {
            throw TransportError(.badRegion, "the descriptor is not a file of at least \(count) bytes")
        }
        guard cteep_memfd_lock_seals(fd) == 0 else {
            throw TransportError(.badRegion, "the descriptor cannot be sealed against shrinking, growing and further seals (make it with memfd_create and MFD_ALLOW_SEALING, with no write seal): \(String(cString: strerror(errno)))")
        }
        let copy = dup(fd)
        guard copy >= 0 else { throw TransportError(.badRegion, "dup: \(String(cString: strerror(errno)))") }
        _ = fcntl(copy, F_SETFD, FD_CLOEXEC)
        do {
            return try MappedRegion(fd: copy, count: count, keepDescriptor: true)
        } catch {
            close(copy)
            throw error
        }
    }

    /// Maps a descriptor a peer sent (the daemon side). Attacker: the peer. The descriptor must
    /// be a memfd at least `count` bytes long, sealed against shrinking and against any further
    /// seal: else the peer could truncate it under our mapping (SIGBUS on our reads) or add
    /// F_SEAL_FUTURE_WRITE after registering it, so that a writable mapping of it fails
    /// (red-team H1). A write-sealed memfd is refused.
    /// The region keeps the descriptor (`fd`): a TA host that a call names the region to is sent
    /// a descriptor for it, so the TA maps the client's bytes instead of receiving a copy.
    public static func adopt(fd: Int32, count: UInt64) throws(TransportError) -> MappedRegion {
        var adopted = false
        defer { if !adopted { close(fd) } }
        guard count <= UInt64(Int32.max) else { throw TransportError(.badRegion, "a region of \(count) bytes is larger than the transport allows") }
        guard cteep_memfd_check_seals(fd) == 0 else {
            throw TransportError(.badRegion, "the descriptor is not a memfd sealed with F_SEAL_SHRINK and F_SEAL_SEAL (and no write seal)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, UInt64(st.st_size) >= max(count, 1) else {
            throw TransportError(.badRegion, "the memfd is smaller than the \(count) bytes announced")
        }
        let region = try MappedRegion(fd: fd, count: Int(count), keepDescriptor: true)
        adopted = true
        return region
    }

    deinit {
        munmap(base, mappedLength)
        if fd >= 0 { close(fd) }
    }

    /// Gives up the descriptor once it has been passed on (the mapping stays).
    public func closeDescriptor() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    public func copyBytes(offset: Int, count: Int) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        // SAFETY: [offset, offset + count) lies inside the mapping (checked above).
        return [UInt8](UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    /// `destination` becomes a copy of `count` bytes from `offset`, in the storage it has when
    /// that is large enough and not shared.
    public func copyBytes(offset: Int, count: Int, replacing destination: inout [UInt8]) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        destination.removeAll(keepingCapacity: true)
        // SAFETY: [offset, offset + count) lies inside the mapping (checked above).
        destination.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    public func copyBytes(offset: Int, count: Int, into destination: inout [UInt8], at destinationOffset: Int) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        precondition(destinationOffset >= 0 && destinationOffset <= destination.count - count, "destination out of range")
        // SAFETY: both ranges were checked; the source is the mapping, the destination the array.
        destination.withUnsafeMutableBytes { dst in
            _ = memcpy(dst.baseAddress! + destinationOffset, base + offset, count)
        }
    }

    public func atomicWrappingAdd(offset: Int, _ delta: UInt32) -> UInt32? {
        // The mapping starts on a page: the offset's alignment is the word's.
        guard offset % 4 == 0 else { return nil }
        // word(at:) checks the range; the atomic is C's, on the shared page.
        return cteep_fetch_add(word(at: offset), delta) &+ delta
    }

    /// In place: the mapping itself (a TA's single pass over bulk data).
    public func withBytes<R>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TEEResult) -> R) throws(TEEResult) -> R {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        // SAFETY: the range is inside the mapping, which lives as long as this object (kept
        // alive by the call that lends it).
        return try withExtendedLifetime(self) { () throws(TEEResult) -> R in try body(UnsafeRawBufferPointer(start: base + offset, count: count)) }
    }

    /// The bulk path (LOAD into coprocessor memory). Where this side holds the memfd, the bytes
    /// are read from it with pread: the kernel copies from the memfd's pages straight into the
    /// destination, so the client's pages are never mapped here — they neither add to this
    /// process's resident set (a 64 MiB LOAD grows it by the destination only) nor cost a page
    /// fault each. Still one copy, and still a snapshot the caller validates afterwards (the
    /// client can change the memfd during the read as it could during a memcpy).
    public func copyBytes(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "shared-memory read out of range")
        var done = 0
        if fd >= 0, count >= 64 << 10 {
            while done < count {
                let n = pread(fd, destination + done, count - done, off_t(offset + done))
                if n > 0 { done += n } else if n < 0, errno == EINTR { continue } else { break }
            }
        }
        // SAFETY: the source range was checked; the caller vouches for the destination.
        if done < count { _ = memcpy(destination + done, base + offset + done, count - done) }
    }

    public func store(_ bytes: [UInt8], at offset: Int) {
        precondition(offset >= 0 && offset <= count - bytes.count, "shared-memory write out of range")
        // SAFETY: [offset, offset + bytes.count) lies inside the mapping (checked above).
        bytes.withUnsafeBytes { src in _ = memcpy(base + offset, src.baseAddress!, bytes.count) }
    }

    /// Where the region is mapped in this process (the C client library hands it to C code as
    /// `TEEC_SharedMemory.buffer`, as OP-TEE's library hands out its mmap).
    public var baseAddress: UnsafeMutableRawPointer { base }

    /// The address of an aligned word (for futex wakes by tools that drive a channel by hand).
    public func wordPointer(at offset: Int) -> UnsafeMutablePointer<UInt32> { word(at: offset) }

    /// Raw access for the transport's own channel words (never handed to parsers).
    func word(at offset: Int) -> UnsafeMutablePointer<UInt32> {
        precondition(offset >= 0 && offset % 4 == 0 && offset + 4 <= count)
        // SAFETY: aligned, inside the mapping.
        return (base + offset).assumingMemoryBound(to: UInt32.self)
    }
}
