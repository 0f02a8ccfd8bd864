#if canImport(Glibc)
import Glibc
#endif
import CTEEPlatform
import Synchronization
import TEECore

/// The line between the secure-world core and one TA host process: a shared-memory ring pair
/// (one frame down, one frame up, strictly alternating, futex doorbells) in a memfd both map.
///
/// ```
/// offset 0   u32 down sequence  (the core bumps it after writing a frame into the down area)
///        4   u32 up sequence    (the host bumps it after writing a frame into the up area)
///        8   u32 down length     12  u32 up length
///        16  u32 cancel          (the core bumps it to ask the running entry point to cancel)
///        20  u32 host sleeping   24  u32 core sleeping   (set by a side before it futex-waits:
///                                 the other side wakes it only then, see cteep_publish)
///        28  u32 down taken      (the host stores the down sequence it has copied out: the
///                                 core tells a host that died before it read a frame)
/// 4096       down area [HostLink.frameCapacity], then the up area [HostLink.frameCapacity]
/// ```
/// The memfd is sparse: only the bytes a frame touches are ever backed by memory. Each side
/// reads the other's length once, bounds it, copies the frame out and decodes only the copy.
public final class HostLink: @unchecked Sendable {
    // @unchecked: the words are atomics on shared memory; each area has one writer at a time.
    public static let frameCapacity = 4 << 20
    static let downOffset = 4096
    static let upOffset = downOffset + frameCapacity
    public static let size = upOffset + frameCapacity
    static let downSeq = 0, upSeq = 4, downLength = 8, upLength = 12, cancelWord = 16
    static let hostSleeping = 20, coreSleeping = 24, downTaken = 28
    /// Pauses each side spins before it sleeps on the futex (about 50 µs on the machines we
    /// measured: longer than a TA's answer to a small call, so neither side sleeps in a burst of
    /// calls; the client side adapts its own spin, see ClientChannel).
    static let spins: Int32 = 2000

    let region: MappedRegion
    private var sentDown: UInt32 = 0, seenDown: UInt32 = 0, sentUp: UInt32 = 0, seenUp: UInt32 = 0
    /// An atomic, not a lock: every wait reads it.
    private let deadFlag = Atomic<Bool>(false)

    init(region: MappedRegion) {
        self.region = region
    }

    /// A new link for a host to be started (the core's side; `region.fd` is passed to the child).
    public static func create() throws(TransportError) -> HostLink {
        HostLink(region: try MappedRegion.create(count: size, name: "rproc-tee-ta-link"))
    }

    /// The link the core passed as descriptor `fd` (the host's side).
    public static func inherit(fd: Int32) throws(TransportError) -> HostLink {
        HostLink(region: try MappedRegion.adopt(fd: fd, count: UInt64(size)))
    }

    // MARK: The core's side

    /// Writes a frame for the host. The frame fits (the core builds its own frames, bounded).
    public func sendDown(_ frame: [UInt8]) throws(TransportError) {
        try send(frame, area: Self.downOffset, length: Self.downLength, seq: Self.downSeq, sleeping: Self.hostSleeping, counter: &sentDown)
    }

    /// Waits for the host's next frame: nil once `markDead` was called (the host is gone).
    /// `tick` runs every `sliceMilliseconds` of waiting (cancellation deadlines).
    public func receiveUp(sliceMilliseconds: Int32 = 50, tick: () -> Void = {}) -> [UInt8]? {
        receive(area: Self.upOffset, length: Self.upLength, seq: Self.upSeq, sleeping: Self.coreSleeping, seen: &seenUp, slice: sliceMilliseconds, spins: Self.spins, tick: tick)
    }

    /// Asks the running entry point to cancel (the host's cancellation watcher sees the change).
    public func requestCancellation() {
        _ = cteep_fetch_add(region.word(at: Self.cancelWord), 1)
        cteep_wake(region.word(at: Self.cancelWord))
    }

    /// The host process is gone (its exit was reaped, so nothing writes the up area any more):
    /// every wait on the link returns nil from now on. The up sequence is bumped so that a
    /// waiter wakes at once instead of at the end of its slice.
    public func markDead() {
        // The bump comes first: whoever sees the flag sees the bump, and can tell a last frame
        // the host wrote before it died (the sequence then moved twice) from none (once).
        _ = cteep_fetch_add(region.word(at: Self.upSeq), 1)
        deadFlag.store(true, ordering: .releasing)
        cteep_wake(region.word(at: Self.upSeq))
    }

    public var isDead: Bool { deadFlag.load(ordering: .acquiring) }

    /// Whether the core sent a frame and the host copied out the last one (a host that died
    /// before — a waiting spare killed from outside — never ran anything of it). Only
    /// meaningful before any TA code ran in the host: a TA could write the word.
    public var hostTookLastFrame: Bool { sentDown != 0 && cteep_load_acquire(region.word(at: Self.downTaken)) == sentDown }

    /// The descriptor to hand to the host process (the core keeps it until the host started).
    public var descriptor: Int32 { region.fd }
    public func closeDescriptor() { region.closeDescriptor() }

    // MARK: The host's side

    public func sendUp(_ frame: [UInt8]) throws(TransportError) {
        try send(frame, area: Self.upOffset, length: Self.upLength, seq: Self.upSeq, sleeping: Self.coreSleeping, counter: &sentUp)
    }

    /// Waits for the core's next frame; nil when `tick` says to give up (the core is gone).
    public func receiveDown(stillWanted: () -> Bool) -> [UInt8]? {
        while true {
            if let frame = receive(area: Self.downOffset, length: Self.downLength, seq: Self.downSeq, sleeping: Self.hostSleeping, seen: &seenDown, slice: 100, spins: Self.spins, tick: {}, once: true) {
                cteep_store_release(region.word(at: Self.downTaken), seenDown)
                return frame
            }
            if !stillWanted() { return nil }
        }
    }

    /// Blocks until the core asks for cancellation again (the host's cancellation watcher).
    public func waitForCancellation(last: inout UInt32) {
        let word = region.word(at: Self.cancelWord)
        while true {
            let now = cteep_wait_change(word, last, 0, 1000)
            if now != last {
                last = now
                return
            }
        }
    }

    // MARK: Both sides

    private func send(_ frame: [UInt8], area: Int, length: Int, seq: Int, sleeping: Int, counter: inout UInt32) throws(TransportError) {
        guard frame.count <= Self.frameCapacity else { throw TransportError(.outOfMemory, "a \(frame.count)-byte frame is larger than the TA-host link (\(Self.frameCapacity))") }
        region.store(frame, at: area)
        counter &+= 1
        cteep_store_release(region.word(at: length), UInt32(frame.count))
        cteep_publish(region.word(at: seq), counter, region.word(at: sleeping))
    }

    /// The host is dead: the frame it wrote just before (a panic report), if the core has not
    /// read it yet, else nil. The sequence moved once for each frame and once for the death.
    private func lastFrame(area: Int, length: Int, word: UnsafeMutablePointer<UInt32>, seen: inout UInt32) -> [UInt8]? {
        let final = cteep_load_acquire(word)
        guard final &- seen >= 2 else { return nil }
        seen = final &- 1
        let n = Int(cteep_load_acquire(region.word(at: length)))
        guard n <= Self.frameCapacity else { return [] }
        return region.copyBytes(offset: area, count: n)
    }

    private func receive(area: Int, length: Int, seq: Int, sleeping: Int, seen: inout UInt32, slice: Int32, spins: Int32, tick: () -> Void, once: Bool = false) -> [UInt8]? {
        let word = region.word(at: seq), flag = region.word(at: sleeping)
        var spins = spins
        while true {
            if !once && isDead { return lastFrame(area: area, length: length, word: word, seen: &seen) }
            // The frame's first lines are prefetched as the word is polled (see ChannelLayout).
            let now = cteep_wait_change_prefetching(word, seen, flag, spins, slice, UnsafeRawPointer(region.baseAddress + area), ChannelLayout.prefetchLines)
            spins = 0
            if now != seen {
                if !once && isDead { return lastFrame(area: area, length: length, word: word, seen: &seen) }
                seen = now
                // Attacker: the other process. One read of the length, bounded; one copy.
                let n = Int(cteep_load_acquire(region.word(at: length)))
                guard n <= Self.frameCapacity else { return [] }   // decodes as malformed
                return region.copyBytes(offset: area, count: n)
            }
            if once { return nil }
            tick()
        }
    }
}
