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
/// call ends with COMMUNICATION too.
final class SupplicantBroker: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`; plugin calls are serialized by `calls`.
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
    private let calls = NSLock()
    private var plugins: [TEEUUID: any SupplicantPlugin] = [:]
    /// The connection serving as the supplicant, and the memory its data travels in.
    private var supplicant: (owner: ObjectIdentifier, memory: MemoryTable, region: UInt32)?
    private var pending: Call?
    private var taken: Call?
    private var answer: (id: UInt32, result: TEEResult, length: UInt32)?
    private var nextID: UInt32 = 0

    func register(_ plugin: any SupplicantPlugin) {
        condition.withLock { plugins[plugin.uuid] = plugin }
    }

    // MARK: A TA's call

    /// Runs `plugin`'s `command` with `data` (replaced by what the plugin left in its first
    /// `min(output length, data.count)` bytes) and returns the plugin's result and reported length.
    func invoke(plugin uuid: TEEUUID, command: UInt32, subCommand: UInt32, data: inout [UInt8]) -> (result: TEEResult, outputLength: UInt32) {
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
        calls.lock()
        defer { calls.unlock() }
        condition.lock()
        defer { condition.unlock() }
        // No supplicant: COMMUNICATION — unless plugins are served in this process, which then
        // answer as a supplicant without that plugin does.
        guard let served = supplicant, let entry = served.memory.lookup(served.region) else { return (plugins.isEmpty ? .communication : .itemNotFound, 0) }
        // The region was checked when the supplicant named it; it is its own memory (a
        // supplicant that changes it meanwhile only changes what its plugin sees).
        guard data.count <= entry.region.count else { return (.outOfMemory, 0) }
        if !data.isEmpty { entry.region.store(data, at: 0) }
        nextID = nextID == .max ? 1 : nextID + 1
        let call = Call(id: nextID, plugin: uuid, command: command, subCommand: subCommand, length: data.count)
        pending = call
        answer = nil
        condition.broadcast()
        while answer?.id != call.id {
            // The supplicant went away (or another connection took its place): the call is lost.
            guard let now = supplicant, now.owner == served.owner else {
                if pending?.id == call.id { pending = nil }
                if taken?.id == call.id { taken = nil }
                return (.communication, 0)
            }
            condition.wait()
        }
        let reply = answer!
        answer = nil
        // Attacker: the supplicant (normal world), for the length and the bytes: at most the
        // TA's own length is copied back, out of one read of the region.
        let back = min(Int(reply.length), data.count)
        if back > 0 { data.replaceSubrange(0..<back, with: entry.region.copyBytes(offset: 0, count: back)) }
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
            answer = (lost.id, .communication, 0)
            condition.broadcast()
        }
        supplicant = (owner, memory, id)
        let deadline = Date(timeIntervalSinceNow: wait)
        while pending == nil {
            guard condition.wait(until: deadline) else { break }
        }
        guard let call = pending else { return (.noData, nil, started) }
        // A call bigger than a region named since it was posted is refused, not truncated.
        guard call.length <= entry.region.count else {
            pending = nil
            answer = (call.id, .outOfMemory, 0)
            condition.broadcast()
            return (.noData, nil, started)
        }
        pending = nil
        taken = call
        return (.success, call, started)
    }

    /// The supplicant's answer. Attacker: any client — only the serving one, for the call it took.
    func reply(owner: ObjectIdentifier, call id: UInt32, result: TEEResult, outputLength: UInt32) -> TEEResult {
        condition.lock()
        defer { condition.unlock() }
        guard let served = supplicant, served.owner == owner, let call = taken, call.id == id else { return .badState }
        taken = nil
        answer = (call.id, result, outputLength)
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
            condition.broadcast()
            return true
        }
    }

    var isServed: Bool { condition.withLock { supplicant != nil } }
}
