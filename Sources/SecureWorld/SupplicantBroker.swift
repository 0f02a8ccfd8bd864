import Foundation
import TEEInternalAPI
import TEETransport

/// A tee-supplicant plugin served inside this process: in an embedded world a TA developer's test
/// stands in for the normal-world plugin a TA calls (`TEE.invokeSupplicantPlugin`). A daemon
/// never runs plugins itself — they are normal-world code; `rproc-tee supplicant` runs them.
public protocol SupplicantPlugin: Sendable {
    var uuid: TEEUUID { get }
    /// OP-TEE's `plugin_method.invoke`: `data` holds the TA's bytes (its count is the length the
    /// TA passed); the plugin may change them and returns its result and the output length it
    /// reports (the TA gets at most `data.count` bytes back, and the length as reported).
    func invoke(command: UInt32, subCommand: UInt32, data: inout [UInt8]) -> (result: TEEResult, outputLength: Int)
}

/// OP-TEE's supplicant RPC for plugins, between a TA's call (the system pseudo-TA's
/// SUPP_PLUGIN_INVOKE) and the supplicant: one connection registers as the supplicant by asking
/// for work (`receive`), naming shared memory of its own for the data; a TA's call waits for it
/// to take the call and answer (`reply`). Calls run one at a time (one data region), as OP-TEE's
/// supplicant serves them from one thread. No supplicant: COMMUNICATION at once, as Linux's
/// driver answers when tee-supplicant is not running; a supplicant that goes away mid-call: the
/// call ends with COMMUNICATION too. A call is not bounded in time (OP-TEE's is not either), but
/// its caller may give up: a cancelled TA call (see `invoke`'s `cancelled`) ends with CANCEL.
final class SupplicantBroker: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`; plugin calls are serialized by `busy`.
    /// The most a TA may pass to a plugin (OP-TEE bounds it by the memory it can allocate).
    static let maxData = 1 << 20
    /// How long a supplicant's request for work waits before NO_DATA (it asks again): the bound
    /// on how long a daemon thread is held by an idle supplicant.
    var receiveWait: TimeInterval {
        get { condition.withLock { wait } }
        set { condition.withLock { wait = min(max(newValue, 0), 5) } }
    }
    private var wait: TimeInterval = 0.5

    struct Call {
        let id: UInt32
        let plugin: TEEUUID
        let command: UInt32
        let subCommand: UInt32
        let length: Int
    }

    private let condition = NSCondition()
    private var plugins: [TEEUUID: any SupplicantPlugin] = [:]
    /// The connection serving as the supplicant, and the memory its data travels in.
    private var supplicant: (owner: ObjectIdentifier, memory: MemoryTable, region: UInt32)?
    /// A TA's call holds the one slot from posting it until its answer (or until it gives up).
    private var busy = false
    /// The call posted for the supplicant, with the TA's bytes (written into the supplicant's
    /// memory only when it takes the call: a plugin still working on an abandoned call keeps its
    /// bytes).
    private var pending: (call: Call, data: [UInt8])?
    private var taken: Call?
    /// A taken call whose TA gave up: its answer, when it comes, is accepted and dropped.
    private var abandoned: UInt32?
    private var answer: (id: UInt32, result: TEEResult, length: UInt32, data: [UInt8])?
    private var nextID: UInt32 = 0
    /// How often a waiting TA's call looks whether its caller gave up.
    static let pollInterval: TimeInterval = 0.1

    func register(_ plugin: any SupplicantPlugin) {
        condition.withLock { plugins[plugin.uuid] = plugin }
    }

    // MARK: A TA's call

    /// Runs `plugin`'s `command` with `data` (replaced by what the plugin left in its first
    /// `min(output length, data.count)` bytes) and returns the plugin's result and reported length.
    /// `cancelled` is asked every `pollInterval` while the call waits (for the slot, the
    /// supplicant or its answer): once it says yes the call ends with CANCEL, as a TA's
    /// `TEE_Wait` does, and a late answer is dropped.
    func invoke(plugin uuid: TEEUUID, command: UInt32, subCommand: UInt32, data: inout [UInt8],
                cancelled: () -> Bool = { false }) -> (result: TEEResult, outputLength: UInt32) {
        if let local = condition.withLock({ plugins[uuid] }) {
            var bytes = data
            let (result, length) = local.invoke(command: command, subCommand: subCommand, data: &bytes)
            let reported = UInt32(clamping: max(0, length))
            // As from a supplicant: at most the TA's own length comes back (the plugin may have
            // resized its array).
            let back = min(Int(reported), data.count, bytes.count)
            if back > 0 { data.replaceSubrange(0..<back, with: bytes.prefix(back)) }
            return (result, reported)
        }
        condition.lock()
        defer { condition.unlock() }
        func waitSlice() { _ = condition.wait(until: Date(timeIntervalSinceNow: Self.pollInterval)) }
        while busy {
            if cancelled() { return (.cancel, 0) }
            waitSlice()
        }
        // No supplicant: COMMUNICATION — unless plugins are served in this process, which then
        // answer as a supplicant without that plugin does.
        guard let served = supplicant, let entry = served.memory.lookup(served.region) else { return (plugins.isEmpty ? .communication : .itemNotFound, 0) }
        guard data.count <= entry.region.count else { return (.outOfMemory, 0) }
        busy = true
        defer {
            busy = false
            condition.broadcast()
        }
        nextID = nextID == .max ? 1 : nextID + 1
        let call = Call(id: nextID, plugin: uuid, command: command, subCommand: subCommand, length: data.count)
        pending = (call, data)
        answer = nil
        condition.broadcast()
        while answer?.id != call.id {
            // The supplicant went away (or another connection took its place): the call is lost.
            guard let now = supplicant, now.owner == served.owner else {
                if pending?.call.id == call.id { pending = nil }
                if taken?.id == call.id { taken = nil }
                return (.communication, 0)
            }
            if cancelled() {
                if pending?.call.id == call.id { pending = nil }
                if taken?.id == call.id { abandoned = call.id }
                return (.cancel, 0)
            }
            waitSlice()
        }
        let reply = answer!
        answer = nil
        // Attacker: the supplicant (normal world), for the length and the bytes: at most the
        // TA's own length comes back, from the one copy `reply` took.
        let back = min(Int(reply.length), data.count, reply.data.count)
        if back > 0 { data.replaceSubrange(0..<back, with: reply.data.prefix(back)) }
        return (reply.result, reply.length)
    }

    // MARK: The supplicant's side

    /// The supplicant's request for the next call. Attacker: any client — only one running as
    /// the daemon's own user (or root) may serve, only one at a time, and only with memory it
    /// shared for input and output.
    func receive(owner: ObjectIdentifier, memory: MemoryTable, region id: UInt32) -> (result: TEEResult, call: Call?, started: Bool) {
        guard memory.peer.uid == UInt32(geteuid()) || memory.peer.uid == 0 else { return (.accessDenied, nil, false) }
        guard let entry = memory.lookup(id), entry.flags == 3, entry.region.count > 0 else { return (.badParameters, nil, false) }
        condition.lock()
        defer { condition.unlock() }
        if let served = supplicant, served.owner != owner { return (.busy, nil, false) }
        let started = supplicant == nil
        if let lost = taken {
            // Asked again without answering the call it took: that call's answer is lost.
            taken = nil
            if abandoned == lost.id { abandoned = nil } else { answer = (lost.id, .communication, 0, []) }
            condition.broadcast()
        }
        supplicant = (owner, memory, id)
        let deadline = Date(timeIntervalSinceNow: wait)
        while pending == nil {
            guard condition.wait(until: deadline) else { break }
        }
        guard let (call, data) = pending else { return (.noData, nil, started) }
        pending = nil
        // A call bigger than a region named since it was posted is refused, not truncated.
        guard call.length <= entry.region.count else {
            answer = (call.id, .outOfMemory, 0, [])
            condition.broadcast()
            return (.noData, nil, started)
        }
        if !data.isEmpty { entry.region.store(data, at: 0) }
        taken = call
        return (.success, call, started)
    }

    /// The supplicant's answer. Attacker: any client — only the serving one, for the call it took.
    func reply(owner: ObjectIdentifier, call id: UInt32, result: TEEResult, outputLength: UInt32) -> TEEResult {
        condition.lock()
        defer { condition.unlock() }
        guard let served = supplicant, served.owner == owner, let call = taken, call.id == id else { return .badState }
        taken = nil
        if abandoned == call.id {
            // Its TA gave up: nobody waits for this answer.
            abandoned = nil
            return .success
        }
        // One copy of what the plugin left (at most the call's length), taken now: the
        // supplicant's memory is its own to change afterwards.
        var bytes: [UInt8] = []
        if let entry = served.memory.lookup(served.region) {
            let n = min(Int(min(outputLength, UInt32(Int32.max))), call.length, entry.region.count)
            if n > 0 { bytes = entry.region.copyBytes(offset: 0, count: n) }
        }
        answer = (call.id, result, outputLength, bytes)
        condition.broadcast()
        return .success
    }

    /// A connection is gone: if it was the supplicant, the call it holds or would have taken ends.
    /// Returns whether it was.
    func disconnect(owner: ObjectIdentifier) -> Bool {
        condition.withLock {
            guard supplicant?.owner == owner else { return false }
            supplicant = nil
            taken = nil
            abandoned = nil
            condition.broadcast()
            return true
        }
    }

    var isServed: Bool { condition.withLock { supplicant != nil } }
}
