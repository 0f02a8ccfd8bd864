import Logging
import TEEEmbedded
import TEEInternalAPI

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
}
