import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `concurrent` TA in Swift, written from what the original (`ta/concurrent/
/// ta_entry.c`) does: multi-instance (each session its own instance — its own process under the
/// daemon), each call counts itself in and out of an `active_count` word in the caller's shared
/// memory with atomic adds, and reports how many were active when it started; the work is a busy
/// loop or repeated SHA-256. xtest 1013 runs it from several threads at once.
final class ConcurrentCore {
    func invoke(command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = ConcurrentTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .busyLoop:
            try params.require(ParamTypes(.memrefInout, .valueInout))
        case .sha256:
            try params.require(ParamTypes(.memrefInout, .valueInout, .memrefInput, .memrefOutput))
            guard params.memref(3).capacity >= 32 else { throw .badParameters }
        }
        let shared = params.memref(0)
        // Attacker: the client sizes and places the shared word (BAD_PARAMETERS if it is short
        // or unaligned).
        guard shared.capacity >= 4 else { throw .badParameters }
        let active = try shared.atomicWrappingAdd(at: 0, 1)
        defer { _ = try? shared.atomicWrappingAdd(at: 0, 0 &- 1) }
        let rounds = params.value(1).a
        params.setValue(1, a: rounds, b: active)
        switch command {
        case .busyLoop:
            var sink = 0
            for _ in 0..<rounds {
                for n in 0..<1000 { sink &+= n }
                blackHole(sink)
            }
        case .sha256:
            let data = try params.memref(2).read()
            let op = try CryptoOperation(algorithm: .sha256, mode: .digest)
            var digest: [UInt8] = []
            for _ in 0..<rounds {
                op.reset()
                var length = 32
                digest = try op.digestDoFinal(data, outputLength: &length)
            }
            try params.withMemref(3) { (out) throws(TEEResult) in try out.write(digest) }
        }
    }
}

/// Keeps the busy loop from being optimized away.
@inline(never) func blackHole(_ value: Int) {}

/// `ta/concurrent`: multi-instance, single session.
public final class ConcurrentTestTA: TrustedApplication {
    public static let properties = TAProperties(uuid: ConcurrentTA.uuid, stackSize: 2 * 1024, description: "concurrent (optee_test)")
    let core = ConcurrentCore()
    public init(tee: TEE) throws(TEEResult) {}
    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try core.invoke(command: command, &params) }
}

/// `ta/concurrent_large`: the same TA with 2 MiB of data.
public final class ConcurrentLargeTestTA: TrustedApplication {
    public static let properties = TAProperties(uuid: ConcurrentTA.largeUUID, dataSize: 2 * 1024 * 1024, stackSize: 2 * 1024, description: "concurrent large (optee_test)")
    let core = ConcurrentCore()
    public init(tee: TEE) throws(TEEResult) {}
    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try core.invoke(command: command, &params) }
}
