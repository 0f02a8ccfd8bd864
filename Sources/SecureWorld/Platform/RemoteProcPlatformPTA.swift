import FirmwareImage
import Logging
import Platform
import RemoteProcTAInterface
import TEECore
import TEECrypto
import TEEInternalAPI

/// The platform pseudo-TA (OP-TEE's remoteproc PTA): the remoteproc TA holds the policy, this
/// touches memory, the firewall and the coprocessor. Only the remoteproc TA may open it.
public final class RemoteProcPlatformPTA: PseudoTA, @unchecked Sendable {
    // @unchecked: state lives in `platform`, which locks it.
    public let uuid = RemoteProcPTA.uuid
    public let name = "remoteproc.pta"
    public let allowedCallers: Set<TEEUUID>? = [RemoteProcTA.uuid]
    public let platform: Platform
    let logger: Logger

    /// Everything this platform implements: ELF loading, SHA-256 hash-table checks, core dumps.
    static let capabilities: RemoteProcPTA.Capabilities = [.elf, .hashTable, .coreDump]

    public init(platform: Platform, logger: Logger) {
        self.platform = platform
        self.logger = logger
    }

    /// The remoteproc TA's session ends — it closed it, or it died (its process is gone): no
    /// coprocessor may stay loaded or running without the TA that holds its policy, so every
    /// one is stopped and wiped (the core owns the platform, so this holds whatever the TA did).
    public func closeSession(client: ClientIdentity) {
        for id in platform.coprocessors.keys.sorted() where platform.coprocessors[id]?.state != .off || !platform.isWiped(id) {
            platform.release(id)
            logger.info("remoteproc.pta: the remoteproc TA's session ended: \(platform.coprocessors[id]!.description.name) stopped and wiped")
        }
    }

    public func invoke(client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let cmd = RemoteProcPTA.Command(rawValue: command) else { throw .notSupported }
        guard params.types[0] == .valueInput else { throw .badParameters }
        let id = params.value(0).a
        guard let coprocessor = platform.coprocessors[id] else { throw .badParameters }
        switch cmd {
        case .hwCapabilities:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            params.setValue(1, a: Self.capabilities.rawValue, b: UInt32(platform.board.coprocessors.count))
        case .acceptsMachine:
            try params.require(ParamTypes(.valueInput, .valueInput))
            guard let machine = UInt16(exactly: params.value(1).a), coprocessor.description.elfMachines.contains(machine) else {
                logger.warning("remoteproc.pta: \(coprocessor.description.name) does not run e_machine \(params.value(1).a) (board: \(coprocessor.description.elfMachines.sorted()))")
                throw .badFormat
            }
        case .loadSegmentSHA256:
            try params.require(ParamTypes(.valueInput, .memrefInput, .valueInput, .memrefInput))
            let (da, flags) = params.value(2)
            let expected = try params.memref(3).read()
            guard expected.count == 32 else { throw .badParameters }
            let segment = params.memref(1)
            guard case (let buffer?, let offset) = segment.backing else { throw .badParameters }
            do {
                try platform.loadSegment(id, da: UInt64(da), source: buffer, sourceOffset: offset, count: segment.capacity, expected: expected, executable: flags & 1 != 0)
            } catch {
                logger.warning("remoteproc.pta: segment at DA \(hex(da)) (\(params.memref(1).capacity) bytes) refused: \(error)")
                throw error
            }
            logger.debug("remoteproc.pta: segment loaded at DA \(hex(da)), \(params.memref(1).capacity) bytes, hash verified at the destination")
        case .setMemory:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let (da, size) = params.value(1), (value, flags) = params.value(2)
            try platform.setMemory(id, da: UInt64(da), size: UInt64(size), value: UInt8(truncatingIfNeeded: value), executable: flags & 1 != 0)
        case .firmwareStart:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput, .valueInput))
            let (entry, traceDA) = params.value(1), (secure, nonSecure) = params.value(2), traceSize = params.value(3).a
            platform.applyFirewall(id, .running)
            do {
                try coprocessor.start(entry: UInt64(entry), secureVector: secure == .max ? nil : UInt64(secure),
                                      nonSecureVector: nonSecure == .max ? nil : UInt64(nonSecure),
                                      traceDA: traceSize > 0 ? UInt64(traceDA) : nil, traceSize: UInt64(traceSize))
            } catch {
                platform.applyFirewall(id, .load)
                logger.warning("remoteproc.pta: start refused: \(coprocessor.startFailure ?? "entry \(hex(entry)) refused")")
                throw error
            }
            let vectors = (secure == .max ? "" : ", secure VTOR \(hex(secure))") + (nonSecure == .max ? "" : ", non-secure VTOR \(hex(nonSecure))")
            logger.info("remoteproc.pta: \(coprocessor.description.name) started at \(hex(entry))\(vectors)")
        case .firmwareStop:
            try params.require(ParamTypes(.valueInput))
            coprocessor.stop()
            // The firmware's memory stays closed to the normal world until RELEASE wipes it.
            platform.applyFirewall(id, .load)
            logger.info("remoteproc.pta: \(coprocessor.description.name) stopped")
        case .daToPA:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueOutput))
            let (da, size) = params.value(1)
            let t = try platform.translate(id, da: UInt64(da), size: UInt64(size))
            params.setValue(2, a: UInt32(truncatingIfNeeded: t.pa), b: UInt32(truncatingIfNeeded: t.pa >> 32))
        case .verifyDigest:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInput))
            guard let type = SignatureType(rawValue: UInt8(truncatingIfNeeded: params.value(0).b)) else { throw .notSupported }
            let keyInfo = try params.memref(1).read()
            let digestBytes = try params.memref(2).read(), signature = try params.memref(3).read()
            guard let digest = try? Digest(algorithm: type == .ecdsaP384 ? .sha384 : .sha256, bytes: digestBytes) else { throw .badParameters }
            do {
                let key = try ImageVerifier.verifySignature(type: type, digest: digest, signature: signature, keyInfo: keyInfo.isEmpty ? nil : keyInfo, trustedKeys: platform.trustedKeys)
                logger.info("remoteproc.pta: \(type.name) signature verified with \(key.algorithmDescription) key \(hexString(key.fingerprint.bytes.prefix(8)))…")
            } catch {
                logger.warning("remoteproc.pta: signature refused: \(error)")
                throw .signatureInvalid
            }
        case .release:
            try params.require(ParamTypes(.valueInput))
            platform.release(id)
            logger.info("remoteproc.pta: \(coprocessor.description.name) memory wiped, default firewall restored")
        case .applyFirewall:
            try params.require(ParamTypes(.valueInput, .valueInput))
            let states: [FirewallState] = [.default, .load, .running]
            let index = Int(params.value(1).a)
            guard index < states.count else { throw .badParameters }
            platform.applyFirewall(id, states[index])
        case .coreDump:
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            // Core dumps are for crash analysis (what Linux's recovery collects), not a way to
            // read a healthy firmware's private memory.
            guard coprocessor.hasCrashed else {
                logger.warning("remoteproc.pta: core dump of \(coprocessor.description.name) refused: it has not crashed")
                throw .badState
            }
            let regions = coprocessor.description.regions.enumerated().map { ($0.element, platform.regionBytes(id, region: $0.offset)) }
            let dump = CoreDump.build(coprocessor: coprocessor, regions: regions)
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(dump) }
        case .shareWindow:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let (da, size) = params.value(1)
            var rights: Rights = []
            if params.value(2).a & 1 != 0 { rights.insert(.read) }
            if params.value(2).a & 2 != 0 { rights.insert(.write) }
            let purpose = RemoteProcPTA.Window(rawValue: params.value(2).b) ?? .other
            do {
                try platform.openWindow(id, da: UInt64(da), size: UInt64(size), rights: rights, purpose: purpose.name)
            } catch {
                logger.warning("remoteproc.pta: \(purpose.name) window [DA \(hex(da)), +\(size)) refused: \(error.reason)")
                throw .accessDenied
            }
        case .readLoaded:
            try params.require(ParamTypes(.valueInput, .valueInput, .memrefOutput))
            let (da, size) = params.value(1)
            let bytes = try platform.readLoaded(id, da: UInt64(da), size: UInt64(size))
            try params.withMemref(2) { (out) throws(TEEResult) in try out.write(bytes) }
        }
    }
}
