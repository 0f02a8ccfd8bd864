import Logging
import Platform
import RemoteProcTAInterface
import TEECore
import TEEInternalAPI

/// The normal world's bus to the simulated SoC (`PlatformBus`): what a driver in another
/// process needs from the platform, every access checked by the firewall exactly as an
/// in-process normal-world access is. Only REE_KERNEL sessions (the TEE grants that login to
/// kernel peers only).
public final class PlatformBusPTA: PseudoTA, @unchecked Sendable {
    // @unchecked: state lives in `platform`, which locks it.
    public let uuid = PlatformBus.uuid
    public let name = "platform.bus"
    public let allowedCallers: Set<TEEUUID>? = nil
    let platform: Platform
    let logger: Logger

    public init(platform: Platform, logger: Logger) {
        self.platform = platform
        self.logger = logger
    }

    public func openSession(client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        guard client.login == .reeKernel else { throw .accessDenied }
    }

    public func invoke(client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard client.login == .reeKernel else { throw .accessDenied }
        guard let cmd = PlatformBus.Command(rawValue: command) else { throw .notSupported }
        switch cmd {
        case .describe:
            try params.require(ParamTypes(.valueInput, .memrefOutput, .valueOutput))
            guard let c = platform.board.coprocessors.first(where: { $0.id == params.value(0).a }) else { throw .itemNotFound }
            var out: [UInt8] = []
            append(&out, UInt32(c.regions.count))
            for r in c.regions {
                let flags: UInt32 = (r.loadable ? 1 : 0) | (r.shared ? 2 : 0) | (r.secure ? 4 : 0)
                for v in [r.deviceAddress, r.physicalAddress, r.size, flags] { append(&out, v) }
            }
            params.setValue(2, a: UInt32(out.count), b: 0)
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(out) }
        case .read:
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            let pa = UInt64(params.value(0).a) | UInt64(params.value(0).b) << 32
            let count = params.memref(1).capacity
            // Attacker: any kernel client. Transfers are bounded; the firewall decides the rest.
            guard count <= PlatformBus.maxTransfer else { throw .badParameters }
            let bytes: [UInt8]
            do { bytes = try platform.read(.normal, pa: pa, count: count) } catch {
                logger.info("platform.bus: normal-world read refused: \(error.reason)")
                throw .accessDenied
            }
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(bytes) }
        case .write:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let pa = UInt64(params.value(0).a) | UInt64(params.value(0).b) << 32
            guard params.memref(1).capacity <= PlatformBus.maxTransfer else { throw .badParameters }
            let bytes = try params.memref(1).read()
            do { try platform.write(.normal, pa: pa, bytes: bytes) } catch {
                logger.info("platform.bus: normal-world write refused: \(error.reason)")
                throw .accessDenied
            }
        case .tick:
            try params.require(ParamTypes(.valueInput))
            let (id, count) = params.value(0)
            guard let c = platform.coprocessors[id] else { throw .itemNotFound }
            guard count <= PlatformBus.maxTicks else { throw .badParameters }
            c.tick(Int(count))
        case .crash:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            guard let c = platform.coprocessors[params.value(0).a] else { throw .itemNotFound }
            guard params.memref(1).capacity <= 256 else { throw .badParameters }
            let reason = String(decoding: try params.memref(1).read(), as: UTF8.self)
            c.crash(reason: reason)
        case .status:
            try params.require(ParamTypes(.valueInput, .valueOutput, .memrefOutput))
            guard let c = platform.coprocessors[params.value(0).a] else { throw .itemNotFound }
            let (state, signal, reason) = c.status
            let code: UInt32 = switch state { case .off: 0; case .running: 1; case .crashed: 2 }
            params.setValue(1, a: code, b: UInt32(signal))
            try params.withMemref(2) { (m) throws(TEEResult) in try m.write(Array((reason ?? "").utf8.prefix(PlatformBus.maxReason))) }
        case .kick:
            try params.require(ParamTypes(.valueInput))
            let (id, channel) = params.value(0)
            guard let c = platform.coprocessors[id], c.description.mailbox != nil else { throw .itemNotFound }
            // Attacker: any kernel client — a channel the board does not have is refused.
            guard (1...(c.description.mailbox?.channels ?? 0)).contains(Int(channel)) else { throw .badParameters }
            guard c.kick(channel: Int(channel)) else { throw .busy }
            logger.trace("platform.bus: kick on channel \(channel) of coprocessor \(id)")
        case .waitKick:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            let (id, milliseconds) = params.value(0)
            guard let c = platform.coprocessors[id], c.description.mailbox != nil else { throw .itemNotFound }
            // Bounded: a kernel client holds a daemon thread at most `maxKickWait` ms.
            guard milliseconds <= PlatformBus.maxKickWait else { throw .badParameters }
            params.setValue(1, a: c.waitForKick(timeout: Double(milliseconds) / 1000), b: 0)
        }
    }

    private func append(_ out: inout [UInt8], _ v: UInt32) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }
}
