import Logging
import TEEEmbedded
import TEEInternalAPI
import TEETransport
import TEEWire

/// A TA whose command does nothing: the round trip is all transport and dispatch.
final class NullTA: TrustedApplication {
    static let properties = TAProperties(uuid: "3d1a4a5e-0000-4000-8000-000000000b0b", singleInstance: true, multiSession: true, description: "null benchmark TA")
    init(tee: TEE) throws(TEEResult) {}
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {}
}

/// Null invoke round trip through the embedded path (encode → dispatch → decode), each call
/// timed on its own; printed as xtest's perf tests print (mean/min/max/stddev).
func runInvokeBenchmarks() throws {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let world = SecureWorld(logger: logger)
    world.register(NullTA.self)
    let context = TEEContext.embedded(world)
    defer { context.finalize() }
    let session = try context.openSession(NullTA.properties.uuid)
    let noParams = TEEOperation()
    let withValue = TEEOperation(.valueInout(1, 2))
    for (name, op) in [("no parameters", noParams), ("one VALUE_INOUT", withValue)] {
        for _ in 0..<2000 { try session.invoke(0, op) }
        let count = 50_000
        var samples = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let start = ContinuousClock.now
            try session.invoke(0, op)
            let d = ContinuousClock.now - start
            samples[i] = Double(d.components.attoseconds) * 1e-12 + Double(d.components.seconds) * 1e6
        }
        let mean = samples.reduce(0, +) / Double(count)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
        let sorted = samples.sorted()
        print("null invoke, embedded, \(name): \(count) calls")
        print("  min=\(format(sorted.first!, digits: 2))us max=\(format(sorted.last!, digits: 2))us mean=\(format(mean, digits: 2))us stddev=\(format(variance.squareRoot(), digits: 2))us median=\(format(sorted[count / 2], digits: 2))us p99=\(format(sorted[count * 99 / 100], digits: 2))us")
    }
    try runCodecBenchmark()
    try runDispatchBenchmark(world)
}

/// The secure world's share of a call: one invoke frame (one VALUE_INOUT) handled — decoded,
/// dispatched to the TA, answered into a kept buffer — as a daemon's channel thread does it,
/// without a transport or a client library.
func runDispatchBenchmark(_ world: SecureWorld) throws {
    let memory = MemoryTable(peer: .currentProcess)
    defer { world.disconnect(memory: memory) }
    let open = world.handle(WireCodec.encode(.request(id: 1, .openSession(uuid: NullTA.properties.uuid, login: .public, connectionData: 0, cancelID: 0, params: .none))), memory: memory)
    guard case .response(_, _, let opened) = try WireCodec.decode(open), opened.result == .success else { fatalError("open session by frame") }
    let params = try WireParameters(types: ParamTypes(.valueInout, .none, .none, .none), params: [.value(a: 1, b: 2), .none, .none, .none])
    let frame = WireCodec.encode(.request(id: 2, .invoke(session: opened.session, command: 0, cancelID: 9, params: params)))
    var reply: [UInt8] = []
    var best = Double.infinity
    ServingThread.run {
        for _ in 0..<5 {
            let rounds = 200_000
            let start = ContinuousClock.now
            for _ in 0..<rounds { world.handle(frame, memory: memory, into: &reply) }
            let d = ContinuousClock.now - start
            best = min(best, (Double(d.components.attoseconds) * 1e-9 + Double(d.components.seconds) * 1e9) / Double(rounds))
        }
    }
    guard case .response(_, _, let r)? = try? WireCodec.decode(reply), r.result == .success else { fatalError("invoke by frame") }
    print("secure world, one invoke frame handled (decode, dispatch, TA, response): \(format(best, digits: 0)) ns (best of 5 × 200000)")
}

/// The four TEEWire steps of one call (request encoded and decoded, response encoded and
/// decoded), without a transport or a TA: the share of the null invoke that is the codec.
func runCodecBenchmark() throws {
    let params = try WireParameters(types: ParamTypes(.valueInout, .none, .none, .none), params: [.value(a: 1, b: 2), .none, .none, .none])
    let request = WireMessage.request(id: 7, .invoke(session: 1, command: 0, cancelID: 9, params: params))
    let response = WireMessage.response(id: 7, kind: 2, WireResponse(result: .success, origin: .trustedApp, params: params))
    var check = 0
    var best = Double.infinity
    for _ in 0..<5 {
        let rounds = 200_000
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            guard case .request(let id, _) = try WireCodec.decode(WireCodec.encode(request)),
                  case .response(_, _, let r) = try WireCodec.decode(WireCodec.encode(response)) else { fatalError("codec round trip") }
            check &+= Int(id) &+ Int(r.result.rawValue)
        }
        let d = ContinuousClock.now - start
        best = min(best, (Double(d.components.attoseconds) * 1e-9 + Double(d.components.seconds) * 1e9) / Double(rounds))
    }
    print("TEEWire codec, one call's four steps (invoke request and response, each encoded and decoded): \(format(best, digits: 0)) ns (best of 5 × 200000; check \(check % 10))")
}
