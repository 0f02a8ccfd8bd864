import Foundation

/// An STM32 IPCC between the normal world (processor 1, Linux) and a coprocessor (processor 2),
/// as the board's `mailbox` describes it (RM0436 "IPCC"; Linux's `drivers/mailbox/stm32-ipcc.c`
/// uses the same registers). Each direction has one "occupied" bit per channel: the sender sets
/// it (a kick), the receiver clears it (the acknowledgement). The coprocessor reaches its side
/// through registers in its address space; the normal world through `kick`/`waitForKick`.
///
/// ```
/// 0x00 C1CR  0x04 C1MR  0x08 C1SCR  0x0C C1TOC2SR    processor 1 (the normal world's)
/// 0x10 C2CR  0x14 C2MR  0x18 C2SCR  0x1C C2TOC1SR    processor 2 (the coprocessor's)
/// CR: RXOIE bit 0, TXFIE bit 16 · MR: CHnOM bits 0…5, CHnFM bits 16…21
/// SCR (write): CHnC bits 0…5 clear the other side's channel n, CHnS bits 16…21 set its own
/// 0x3F0 HWCFGR: channel count
/// ```
/// The coprocessor's RX-occupied line is high while a channel the normal world set is unmasked
/// and RXOIE is set; its TX-free line while one of its own channels is free, unmasked, with
/// TXFIE. Both are levels (`EmulatedCore.setLine`).
final class Mailbox: @unchecked Sendable {
    // @unchecked: every field is used under `lock`.
    let description: CoprocessorDescription.Mailbox
    private let lock = NSCondition()
    /// Occupied bits: normal world → coprocessor (C1TOC2SR), coprocessor → normal world (C2TOC1SR).
    private var toCoprocessor: UInt32 = 0
    private var toNormalWorld: UInt32 = 0
    private var coprocessorControl: UInt32 = 0
    private var coprocessorMask: UInt32 = 0
    private var normalControl: UInt32 = 0
    private var normalMask: UInt32 = 0
    /// Where the coprocessor's two lines go (the running core's NVIC).
    var lines: ((_ rx: Bool, _ tx: Bool) -> Void)?

    init(_ description: CoprocessorDescription.Mailbox) {
        self.description = description
    }

    private var channelMask: UInt32 { (1 << UInt32(description.channels)) - 1 }

    /// Attacker: the firmware — any offset and value; only the coprocessor's block is writable.
    func read(_ offset: UInt64) -> UInt32 {
        lock.withLock {
            switch offset & ~3 {
            case 0x00: normalControl
            case 0x04: normalMask
            case 0x0C: toCoprocessor
            case 0x10: coprocessorControl
            case 0x14: coprocessorMask
            case 0x1C: toNormalWorld
            case 0x3F0: UInt32(description.channels)
            default: 0
            }
        }
    }

    func write(_ offset: UInt64, _ value: UInt32) {
        lock.withLock {
            switch offset & ~3 {
            case 0x10: coprocessorControl = value & (1 | 1 << 16)
            case 0x14: coprocessorMask = value & (channelMask | channelMask << 16)
            case 0x18:
                // Acknowledge the normal world's channels; occupy its own.
                let acknowledged = toCoprocessor & value & channelMask
                toCoprocessor &= ~(value & channelMask)
                let sent = (value >> 16) & channelMask
                toNormalWorld |= sent
                if sent != 0 || acknowledged != 0 { lock.broadcast() }
            default: break
            }
        }
        updateLines()
    }

    /// The normal world sets channel `channel` (1-based, as ST numbers them) toward the
    /// coprocessor: false if it is still occupied (the coprocessor has not acknowledged it).
    func kick(_ channel: Int) -> Bool {
        guard (1...description.channels).contains(channel) else { return false }
        let bit = UInt32(1) << UInt32(channel - 1)
        let ok = lock.withLock { () -> Bool in
            guard toCoprocessor & bit == 0 else { return false }
            toCoprocessor |= bit
            return true
        }
        updateLines()
        return ok
    }

    /// Waits (at most `timeout`) for the coprocessor to occupy any channel toward the normal
    /// world, then acknowledges them all: their bits (channel n is bit n − 1), 0 on timeout.
    func waitForKick(timeout: TimeInterval) -> UInt32 {
        let deadline = Date().addingTimeInterval(max(0, timeout))
        let kicked = lock.withLock { () -> UInt32 in
            while toNormalWorld == 0, lock.wait(until: deadline) {}
            defer { toNormalWorld = 0 }
            return toNormalWorld
        }
        if kicked != 0 { updateLines() }
        return kicked
    }

    /// A coprocessor start: its side as after reset (interrupts disabled, nothing masked), no
    /// channel occupied either way (the normal world kicks again once the firmware runs).
    func reset() {
        lock.withLock {
            coprocessorControl = 0
            coprocessorMask = 0
            toCoprocessor = 0
            toNormalWorld = 0
            lock.broadcast()
        }
    }

    /// Waits at most `timeout` for the coprocessor to acknowledge `channel`: whether it did.
    func waitForAcknowledgement(channel: Int, timeout: TimeInterval) -> Bool {
        let bit = UInt32(1) << UInt32(channel - 1)
        let deadline = Date().addingTimeInterval(max(0, timeout))
        return lock.withLock {
            while toCoprocessor & bit != 0, lock.wait(until: deadline) {}
            return toCoprocessor & bit == 0
        }
    }

    /// Whether the coprocessor listens: its RX-occupied interrupt enabled (C2CR.RXOIE).
    var coprocessorListens: Bool { lock.withLock { coprocessorControl & 1 != 0 } }

    /// The channels the coprocessor has not yet acknowledged (normal world → coprocessor).
    var pendingToCoprocessor: UInt32 { lock.withLock { toCoprocessor } }

    /// Both lines as the registers make them now, to the core.
    func updateLines() {
        let (rx, tx) = lock.withLock { () -> (Bool, Bool) in
            let rx = coprocessorControl & 1 != 0 && toCoprocessor & ~coprocessorMask & channelMask != 0
            let tx = coprocessorControl & (1 << 16) != 0 && ~toNormalWorld & ~(coprocessorMask >> 16) & channelMask != 0
            return (rx, tx)
        }
        lines?(rx, tx)
    }
}
