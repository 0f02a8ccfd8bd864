import RemoteProcTAInterface
import TEEClient

/// The normal world's bus to the simulated SoC across processes (`PlatformBus`): what a driver
/// whose secure world is the daemon uses instead of direct memory — physical reads and writes
/// (checked by the platform's firewall), the coprocessors' memory maps, and the simulation's
/// controls. Opens its session as the normal-world kernel.
public final class PlatformBusClient: PhysicalMemoryAccess, @unchecked Sendable {
    // @unchecked: the session serializes its calls.
    let session: TEESession

    public init(context: TEEContext) throws(TEEClientError) {
        session = try context.openSession(PlatformBus.uuid, login: .reeKernel)
    }

    /// The device-tree view of coprocessor `id`'s memory.
    public func deviceMap(coprocessor id: UInt32) throws(TEEClientError) -> DeviceMemoryMap {
        var op = TEEOperation(.valueInput(id), .tempOutput(capacity: 4 + 16 * 64), .valueOutput)
        do {
            try session.invoke(PlatformBus.Command.describe.rawValue, op)
        } catch where error.result == .shortBuffer {
            op = TEEOperation(.valueInput(id), .tempOutput(capacity: Int(op.value(2)?.a ?? 0)), .valueOutput)
            try session.invoke(PlatformBus.Command.describe.rawValue, op)
        }
        let bytes = op.output(1) ?? []
        func word(_ at: Int) -> UInt32 { at + 4 <= bytes.count ? UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24 : 0 }
        let count = min(Int(word(0)), (bytes.count - 4) / 16)
        return DeviceMemoryMap((0..<count).map { i in
            DeviceMemoryMap.Range(da: UInt64(word(4 + 16 * i)), pa: UInt64(word(8 + 16 * i)), size: UInt64(word(12 + 16 * i)))
        })
    }

    public func read(pa: UInt64, count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        while at < count || (count == 0 && at == 0) {
            let n = min(PlatformBus.maxTransfer, count - at)
            let op = TEEOperation(.valueInput(UInt32(truncatingIfNeeded: pa + UInt64(at)), UInt32(truncatingIfNeeded: (pa + UInt64(at)) >> 32)), .tempOutput(capacity: n))
            try session.invoke(PlatformBus.Command.read.rawValue, op)
            out += op.output(1) ?? []
            at += n
            if count == 0 { break }
        }
        return out
    }

    public func write(pa: UInt64, bytes: [UInt8]) throws {
        var at = 0
        repeat {
            let chunk = Array(bytes[at..<min(bytes.count, at + PlatformBus.maxTransfer)])
            let address = pa + UInt64(at)
            try session.invoke(PlatformBus.Command.write.rawValue, TEEOperation(.valueInput(UInt32(truncatingIfNeeded: address), UInt32(truncatingIfNeeded: address >> 32)), .tempInput(chunk)))
            at += chunk.count
        } while at < bytes.count
    }

    /// Gives the running firmware `count` slices of emulated instructions before returning.
    public func tick(_ id: UInt32, _ count: UInt32) throws(TEEClientError) {
        try session.invoke(PlatformBus.Command.tick.rawValue, TEEOperation(.valueInput(id, count)))
    }

    /// The coprocessor's state and, if it crashed, why (what its crash interrupt tells Linux).
    public func status(_ id: UInt32) throws(TEEClientError) -> (state: String, signal: UInt32, reason: String?) {
        let op = TEEOperation(.valueInput(id), .valueOutput, .tempOutput(capacity: PlatformBus.maxReason))
        try session.invoke(PlatformBus.Command.status.rawValue, op)
        let value = op.value(1)
        let text = String(decoding: op.output(2) ?? [], as: UTF8.self)
        let state = switch value?.a { case 1: "running"; case 2: "crashed"; default: "off" }
        return (state, value?.b ?? 0, text.isEmpty ? nil : text)
    }

    /// Kicks `channel` of the coprocessor's mailbox (BUSY while its last kick is unacknowledged).
    public func kick(_ id: UInt32, channel: UInt32) throws(TEEClientError) {
        try session.invoke(PlatformBus.Command.kick.rawValue, TEEOperation(.valueInput(id, channel)))
    }

    /// Waits at most `milliseconds` (≤ 10 s) for the coprocessor to kick: the channels it kicked
    /// (channel n is bit n − 1), acknowledged; 0 on timeout.
    public func waitForKick(_ id: UInt32, milliseconds: UInt32) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.valueInput(id, milliseconds), .valueOutput)
        try session.invoke(PlatformBus.Command.waitKick.rawValue, op)
        return op.value(1)?.a ?? 0
    }

    /// Injects a watchdog crash (for recovery tests and demos).
    public func crash(_ id: UInt32, reason: String) throws(TEEClientError) {
        try session.invoke(PlatformBus.Command.crash.rawValue, TEEOperation(.valueInput(id), .tempInput(Array(reason.utf8.prefix(256)))))
    }
}
