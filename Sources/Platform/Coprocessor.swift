import Foundation
import TEECore

/// The coprocessor model. It cannot run Arm code; it behaves as the firmware's observable
/// effects would: it starts only at a verified entry point inside a loaded executable segment,
/// writes boot and heartbeat lines into the trace buffer its resource table names (through the
/// firewall, as the coprocessor), can be crashed by its watchdog, and stops.
public final class Coprocessor: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `lock`.
    public enum State: String, Sendable { case off, running, crashed }

    public let description: CoprocessorDescription
    package unowned let platform: Platform
    private let lock = NSLock()
    private var _state = State.off
    private var trace: (pa: UInt64, size: Int)?
    private var cursor = 0
    private var ticks = 0
    public private(set) var entryPoint: UInt64 = 0
    public private(set) var vectors: (secure: UInt64?, nonSecure: UInt64?) = (nil, nil)
    public private(set) var crashReason: String?

    package init(description: CoprocessorDescription, platform: Platform) {
        self.description = description
        self.platform = platform
    }

    public var state: State { lock.withLock { _state } }
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
            throw .accessDenied
        }
        for vector in [secureVector, nonSecureVector].compactMap({ $0 }) {
            guard segments.contains(where: { vector >= $0.deviceAddress && vector - $0.deviceAddress < $0.size }) else { throw .accessDenied }
        }
        var traceArea: (UInt64, Int)?
        if let traceDA, traceSize > 0 {
            let t = try platform.translate(id, da: traceDA, size: traceSize)
            traceArea = (t.pa, Int(traceSize))
        }
        lock.withLock {
            _state = .running
            entryPoint = entry
            vectors = (secureVector, nonSecureVector)
            trace = traceArea
            cursor = 0
            ticks = 0
            crashReason = nil
        }
        var line = "[\(description.name)] boot at \(hex(entry))"
        if let s = secureVector { line += ", secure VTOR \(hex(s))" }
        if let ns = nonSecureVector { line += ", non-secure VTOR \(hex(ns))" }
        emit(line + "\n")
    }

    /// Lets the running firmware make progress: one heartbeat line in the trace per tick.
    public func tick(_ count: Int = 1) {
        guard count > 0 else { return }
        for _ in 0..<count {
            let n: Int? = lock.withLock {
                guard _state == .running else { return nil }
                ticks += 1
                return ticks
            }
            guard let n else { return }
            emit("[\(description.name)] heartbeat \(n)\n")
        }
    }

    /// The watchdog fires: the firmware is dead until recovered.
    public func crash(reason: String) {
        let wasRunning = lock.withLock { () -> Bool in
            guard _state == .running else { return false }
            crashReason = reason
            return true
        }
        guard wasRunning else { return }
        emit("[\(description.name)] watchdog: \(reason)\n")
        lock.withLock { _state = .crashed }
    }

    package func stop() {
        lock.withLock { _state = .off }
    }

    package func powerOff() {
        lock.withLock {
            _state = .off
            crashReason = nil
            trace = nil
        }
    }

    /// Writes into the trace buffer as the coprocessor, wrapping at its end: at most two
    /// stores (up to the end, then from the start), each checked by the firewall.
    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        guard let (pa, size, start) = lock.withLock({ () -> (UInt64, Int, Int)? in
            guard let (pa, size) = trace, size > 0 else { return nil }
            let start = cursor
            cursor = (cursor + bytes.count) % size
            return (pa, size, start)
        }) else { return }
        if bytes.count > size { bytes = Array(bytes.suffix(size)) }
        var at = (start + text.utf8.count - bytes.count) % size
        while !bytes.isEmpty {
            let chunk = min(bytes.count, size - at)
            try? platform.write(.coprocessor(id), pa: pa + UInt64(at), bytes: Array(bytes.prefix(chunk)))
            bytes.removeFirst(chunk)
            at = 0
        }
    }
}
