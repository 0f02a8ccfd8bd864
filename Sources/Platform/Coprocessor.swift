import Foundation
import TEECore

/// A coprocessor: an emulated Cortex-M core (`EmulatedCore`) running the loaded firmware in
/// place, on a thread of its own, in bounded slices. START checks that the entry point lies
/// inside a loaded executable segment (and each vector table inside a loaded segment), maps every
/// region the running firewall lets the coprocessor reach — with exactly those rights, so any
/// other access is a bus fault — takes the stack pointer from the vector table and starts at the
/// verified entry. A bus fault or an exception the core cannot take crashes the coprocessor: the
/// normal world sees `crashed` with the reason and recovers. STOP ends the run within one slice.
///
/// The M33's secure → non-secure hand-over: Unicorn 2.0.1 has no SAU, so the first non-secure
/// fetch after the secure image's BLXNS is an exception it cannot take. When the secure image's
/// run ends that way with the PC in a non-secure region, the core is replaced by one given only
/// the non-secure regions, reset from the manifest's non-secure vector table: the non-secure
/// image then runs with the secure memory unmapped, and an access to it is a bus fault.
public final class Coprocessor: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `lock`; the runner thread owns the core while it runs.
    public enum State: String, Sendable { case off, running, crashed }

    public let description: CoprocessorDescription
    unowned let platform: Platform
    private let lock = NSCondition()
    private var _state = State.off
    private var slices = 0
    private var core: EmulatedCore?
    private var runnerDone = true
    public private(set) var entryPoint: UInt64 = 0
    public private(set) var vectors: (secure: UInt64?, nonSecure: UInt64?) = (nil, nil)
    public private(set) var crashReason: String?
    /// Why the last START was refused (for the secure log).
    public private(set) var startFailure: String?
    /// r0–r15 and xPSR when the firmware crashed (for the core dump), or when it stopped.
    public private(set) var lastRegisters: [UInt32] = []
    /// The POSIX signal the crash amounts to, as a core dump's NT_PRSTATUS records it: SIGSEGV
    /// for a bus fault, SIGILL for an exception the core cannot take, SIGALRM for the watchdog,
    /// SIGABRT for a crash injected with `crash(reason:)`; 0 when it has not crashed.
    public private(set) var crashSignal = 0
    static let sigill = 4, sigabrt = 6, sigsegv = 11, sigalrm = 14
    /// The watchdog's register in the page mapped into the core (nil without a watchdog).
    private var watchdogPage: RegionStorage?
    private var watchdogRegister: UnsafeMutablePointer<UInt32>? {
        guard let watchdogPage, let w = description.watchdog else { return nil }
        return (watchdogPage.base + Int(w.deviceAddress & 0xFFF)).assumingMemoryBound(to: UInt32.self)
    }

    /// Instructions per slice: ≈ 8 ms at the ≈ 120 M instructions/s measured here.
    public static let sliceInstructions = 1_000_000
    /// Pause between slices, so a firmware that never sleeps (the examples spin) does not own a
    /// host core: the emulated core runs a bit under half of wall time.
    static let pauseMicroseconds: UInt32 = 10_000

    init(description: CoprocessorDescription, platform: Platform) {
        self.description = description
        self.platform = platform
        mailbox = description.mailbox.map { Mailbox($0) }
        mailbox?.lines = { [weak self] rx, tx in
            guard let self, let core = self.lock.withLock({ self.core }), let m = self.description.mailbox else { return }
            core.setLine(irq: m.rxIRQ, high: rx)
            core.setLine(irq: m.txIRQ, high: tx)
        }
    }

    /// The IPCC between the normal world and this coprocessor (the board's `mailbox`), if any.
    private let mailbox: Mailbox?

    /// The normal world kicks channel `channel` (1…the board's channel count; STM32MP15: 1 and
    /// 2 are vring0 and vring1, 3 the shutdown request): the coprocessor's RX line rises. False
    /// without a mailbox, for another channel, or while the coprocessor has not yet
    /// acknowledged the last kick on it.
    public func kick(channel: Int) -> Bool { mailbox?.kick(channel) ?? false }

    /// Waits at most `timeout` for the coprocessor to kick the normal world, and acknowledges:
    /// the channels it kicked (channel n is bit n − 1), 0 on timeout or without a mailbox.
    public func waitForKick(timeout: TimeInterval) -> UInt32 { mailbox?.waitForKick(timeout: timeout) ?? 0 }

    /// The channels the normal world kicked that the coprocessor has not acknowledged.
    public var unacknowledgedKicks: UInt32 { mailbox?.pendingToCoprocessor ?? 0 }

    public var state: State { lock.withLock { _state } }
    /// State, crash signal and crash reason, read together.
    public var status: (state: State, signal: Int, reason: String?) { lock.withLock { (_state, crashSignal, crashReason) } }
    /// The firmware crashed since it was started (a STOP after the crash keeps this until the
    /// next START or RELEASE): what a core dump may be taken of.
    public var hasCrashed: Bool { lock.withLock { crashReason != nil } }
    public var id: UInt32 { description.id }

    /// Starts at `entry` (bit 0 = Thumb on Arm). The entry, and any vector table, must lie inside
    /// a loaded segment; the entry inside an executable one.
    package func start(entry: UInt64, secureVector: UInt64?, nonSecureVector: UInt64?, traceDA: UInt64?, traceSize: UInt64) throws(TEEResult) {
        let segments = platform.loadedSegments(of: id)
        let address = entry & ~1
        guard segments.contains(where: { $0.executable && address >= $0.deviceAddress && address - $0.deviceAddress < $0.size }) else {
            startFailure = "entry \(hex(entry)) is not in a loaded executable segment"
            throw .accessDenied
        }
        for vector in [secureVector, nonSecureVector].compactMap({ $0 }) {
            guard segments.contains(where: { vector >= $0.deviceAddress && vector - $0.deviceAddress < $0.size }) else {
                startFailure = "vector table \(hex(vector)) is not in a loaded segment"
                throw .accessDenied
            }
        }
        if let traceDA, traceSize > 0 { _ = try platform.translate(id, da: traceDA, size: traceSize) }
        stopRunner()
        let model: EmulatedCore.Model = description.core.lowercased().contains("m33") ? .cortexM33 : .cortexM4
        if description.watchdog != nil {
            // A fresh page per START: the register reads 0 (not fed) at reset. 4 KiB of address
            // space is what Unicorn maps at least; a host page may be larger.
            watchdogPage = RegionStorage(size: 0x1000)
        }
        let first: EmulatedCore
        do {
            first = try makeCore(model, regions: description.regions.indices.map { $0 })
            // The vector table the core boots from: the secure one on the M33, else the one the
            // loaded image starts with at the core's reset VTOR (0) — its entry is the verified one.
            try first.reset(vectorTable: secureVector ?? nonSecureVector ?? 0)
            if secureVector == nil { first.setProgramCounter(UInt32(truncatingIfNeeded: address)) }
        } catch {
            startFailure = "the core cannot start: \(error)"
            throw .badState
        }
        lock.withLock {
            _state = .running
            entryPoint = entry
            vectors = (secureVector, nonSecureVector)
            crashReason = nil
            crashSignal = 0
            lastRegisters = []
            slices = 0
            core = first
            runnerDone = false
        }
        // The mailbox as after reset, its lines to the new core.
        mailbox?.reset()
        mailbox?.updateLines()
        let runner = Thread { [weak self] in self?.run(model: model) }
        runner.name = "rproc-tee \(description.name) core"
        runner.start()
    }

    /// A core with `regions` mapped, each with the rights the running firewall gives the
    /// coprocessor (a region it may not touch stays unmapped: an access is a bus fault).
    private func makeCore(_ model: EmulatedCore.Model, regions: [Int]) throws -> EmulatedCore {
        let core = try EmulatedCore(model)
        for i in regions {
            let region = description.regions[i]
            guard let rights = region.firewall[.running]?.coprocessor, !rights.isEmpty else { continue }
            // Unicorn maps whole 4 KiB pages: a region that does not start and end on one cannot
            // be given to the core without widening what the firewall allows.
            guard region.deviceAddress % 0x1000 == 0, region.size % 0x1000 == 0 else {
                throw EmulatedCoreError("region \(region.name) [\(hex(region.deviceAddress)), +\(hex(region.size))) is not 4 KiB aligned: the emulated core maps whole 4 KiB pages")
            }
            guard let storage = platform.regionMemory(id, region: i, forWriting: rights.contains(.write)) else { continue }
            var protection: EmulatedCore.Protection = []
            if rights.contains(.read) { protection.insert(.read) }
            if rights.contains(.write) { protection.insert(.write) }
            if rights.contains(.execute) { protection.insert(.execute) }
            try core.map(address: UInt64(region.deviceAddress), size: Int(region.size), protection: protection, memory: storage.base, owner: storage)
        }
        if let watchdog = description.watchdog, let page = watchdogPage {
            try core.map(address: UInt64(watchdog.page), size: 0x1000, protection: [.read, .write], memory: page.base, owner: page)
        }
        if let mailbox, let m = description.mailbox {
            try core.mapDevice(address: UInt64(m.deviceAddress), read: { offset, size in
                let word = UInt64(mailbox.read(offset))
                let mask: UInt64 = size >= 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1
                return (word >> ((offset & 3) * 8)) & mask
            }, write: { offset, _, value in
                mailbox.write(offset, UInt32(truncatingIfNeeded: value << ((offset & 3) * 8)))
            })
        }
        return core
    }

    /// The runner thread: slices until stopped, crashed or powered off.
    private func run(model: EmulatedCore.Model) {
        defer {
            lock.withLock {
                runnerDone = true
                lock.broadcast()
            }
        }
        let watchdog = description.watchdog
        // Instructions since the last chunk in which the firmware fed the watchdog. A feed is
        // seen at the end of the chunk it happened in, so the watchdog fires between one timeout
        // and one timeout plus a chunk (a quarter timeout) after the last feed — never early.
        var unfed = 0
        // The hand-over happens once: an exception the non-secure image takes later is a crash.
        var handedOver = false
        let chunk = watchdog.map { max(Int($0.timeoutInstructions) / 4, 1) } ?? Self.sliceInstructions
        while let core = lock.withLock({ _state == .running ? self.core : nil }) {
            var budget = Self.sliceInstructions
            var outcome = EmulatedCore.Outcome.sliceEnded
            while budget > 0, outcome == .sliceEnded {
                let n = min(budget, chunk)
                outcome = core.run(instructions: n)
                budget -= n
                if let watchdog, outcome == .sliceEnded, let register = self.watchdogRegister {
                    if register.pointee == CoprocessorDescription.Watchdog.reloadKey {
                        register.pointee = 0
                        unfed = 0
                    } else {
                        unfed += n
                        if unfed >= Int(watchdog.timeoutInstructions) {
                            fail(core, "watchdog expired: not fed for \(watchdog.timeoutInstructions) instructions (pc \(hex(core.registers[15])))", signal: Self.sigalrm)
                            return
                        }
                    }
                }
            }
            switch outcome {
            case .sliceEnded:
                lock.withLock {
                    slices += 1
                    lock.broadcast()
                }
                usleep(Self.pauseMicroseconds)
            case .idle:
                // WFI with nothing to wake it but an event from outside: sleep (no host CPU)
                // until one, a stop, or a slice's worth of time — which counts as a slice.
                core.waitForEvent(timeout: Double(Self.pauseMicroseconds) / 1e6)
                lock.withLock {
                    slices += 1
                    lock.broadcast()
                }
            case .resetRequested:
                fail(core, "the firmware requested a system reset (AIRCR.SYSRESETREQ) at pc \(hex(core.registers[15]))", signal: Self.sigabrt)
                return
            case .stopped:
                lock.withLock { lastRegisters = core.registers }
                return
            case .busFault(let address, let write, let fetch):
                let kind = fetch ? "instruction fetch" : write ? "write" : "read"
                fail(core, "bus fault: \(kind) at \(hex(address)) (pc \(hex(core.registers[15])))", signal: Self.sigsegv)
                return
            case .exception(let text):
                if !handedOver, let handover = try? handOver(from: core, model: model) {
                    handedOver = true
                    lock.withLock { self.core = handover }
                    mailbox?.updateLines()
                    continue
                }
                fail(core, "\(text) at pc \(hex(core.registers[15]))", signal: Self.sigill)
                return
            }
        }
    }

    /// The M33 hand-over (see the type's comment): nil unless the secure image's run ended with
    /// the PC in a non-secure region and the manifest names a non-secure vector table.
    private func handOver(from core: EmulatedCore, model: EmulatedCore.Model) throws -> EmulatedCore? {
        guard model == .cortexM33, let (secure, nonSecure) = lock.withLock({ vectors.secure.flatMap { s in vectors.nonSecure.map { (s, $0) } } }),
              secure != nonSecure else { return nil }
        let pc = UInt64(core.registers[15])
        let nonSecureRegions = description.regions.indices.filter { !description.regions[$0].secure }
        guard nonSecureRegions.contains(where: { i in
            let r = description.regions[i]
            return pc >= UInt64(r.deviceAddress) && pc - UInt64(r.deviceAddress) < UInt64(r.size)
        }) else { return nil }
        let next = try makeCore(model, regions: nonSecureRegions)
        try next.reset(vectorTable: nonSecure)
        return next
    }

    private func fail(_ core: EmulatedCore, _ reason: String, signal: Int) {
        lock.withLock {
            guard _state == .running else { return }
            crashReason = reason
            crashSignal = signal
            lastRegisters = core.registers
            _state = .crashed
            lock.broadcast()
        }
    }

    /// Waits until the running firmware has had `count` more slices (of `sliceInstructions`;
    /// at most 100 ms a slice, 10 s at least): what `run --ticks`, the demo and tests use to let
    /// it make progress. Returns at once if it is not running, or when it crashes.
    public func tick(_ count: Int = 1) {
        guard count > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let target = slices + count
        let deadline = Date().addingTimeInterval(max(10, Double(count) / 10))
        while _state == .running && slices < target && lock.wait(until: deadline) {}
    }

    /// The watchdog fires (a test or demo injects it): the firmware is stopped and dead until
    /// recovered.
    public func crash(reason: String) {
        let running = lock.withLock { _state == .running }
        guard running else { return }
        stopRunner()
        lock.withLock {
            crashReason = reason
            crashSignal = Self.sigabrt
            _state = .crashed
        }
    }

    package func stop() {
        shutDownGracefully()
        stopRunner()
        lock.withLock { if _state == .running { _state = .off } }
    }

    /// How long STOP waits for the firmware to acknowledge the shutdown request.
    static let shutdownTimeout: TimeInterval = 0.5

    /// Whether the firmware acknowledged the last STOP's shutdown request on the mailbox (nil:
    /// none was sent — no mailbox, or firmware that never enabled its RX interrupt).
    public private(set) var lastShutdownAcknowledged: Bool?

    /// As ST's driver stops the M4: the shutdown request on mailbox channel 3, and STOP waits
    /// (at most `shutdownTimeout`) for the firmware's acknowledgement before the core stops.
    /// Only to firmware that listens (its RX interrupt enabled): one that ignores the mailbox
    /// would only make every STOP wait the timeout out.
    private func shutDownGracefully() {
        lastShutdownAcknowledged = nil
        guard let mailbox, (description.mailbox?.channels ?? 0) >= 3, state == .running, mailbox.coprocessorListens,
              mailbox.kick(3) else { return }
        lastShutdownAcknowledged = mailbox.waitForAcknowledgement(channel: 3, timeout: Self.shutdownTimeout)
    }

    package func powerOff() {
        stopRunner()
        lock.withLock {
            _state = .off
            crashReason = nil
            crashSignal = 0
            core = nil
        }
    }

    /// Ends the runner thread (within one slice) and waits for it.
    private func stopRunner() {
        lock.lock()
        let current = core
        let wasRunning = _state == .running
        if wasRunning { _state = .off }
        lock.unlock()
        current?.requestStop()
        lock.lock()
        while !runnerDone { lock.wait() }
        if wasRunning, crashReason == nil { _state = .off }
        lock.unlock()
    }
}
