import FirmwareImage
import Foundation
import Logging
import RemoteProcTAInterface
import TEECrypto
import TEEEmbedded

/// The bodies of the deeper harnesses (issue 9, D), shared by the libFuzzer executables in
/// Tests/Fuzz and by `swift test`, which replays their seeds and crashers through the same calls.
public enum FuzzHarnesses {
    /// A fixed test key: the repository's development key Keys/dev-rsa2048.pem (public, never
    /// for products), found from this file's path. RSA PKCS#1 v1.5 is deterministic, so a
    /// crasher reproduces byte for byte.
    static let key: PrivateKey = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Keys/dev-rsa2048.pem")
        return try! PrivateKey(pemOrDER: Array(try! Data(contentsOf: url)))
    }()
    public static let trust = TrustedKeys(keys: [key.publicKey])

    /// Signs whatever header and TLV area `bytes` has with the harness key and puts the signature
    /// where the header says it goes, so mutations of the signed area are not stopped by the
    /// signature check. Returns nil when the header cannot locate a 256-byte signature.
    public static func resign(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= ContainerHeader.size, let header = try? ContainerHeader(bytes: Array(bytes.prefix(ContainerHeader.size))) else { return nil }
        // Attacker: the fuzzer. Lengths are checked against the input before slicing.
        guard header.signatureLength == 256, header.signatureOffset <= bytes.count, 256 <= bytes.count - header.signatureOffset else { return nil }
        guard case .rsa(let rsa) = key, let signature = try? rsa.signature(for: Digest.hash(.sha256, bytes[0..<header.signatureOffset]), padding: .pkcs1v15) else { return nil }
        var out = bytes
        out.replaceSubrange(header.signatureOffset..<(header.signatureOffset + 256), with: signature)
        return out
    }

    /// FuzzResigned: the re-signed input through the strict verifier (its success path included).
    public static func resigned(_ bytes: [UInt8]) {
        guard let signed = resign(bytes) else { return }
        _ = try? ImageVerifier.verify(signed, trustedKeys: trust, policy: .firmwareAnd64)
    }

    /// The embedded world the TA harness drives: the STM32MP15 board, the remoteproc TA, one
    /// kernel session on coprocessor 0, for the life of the fuzzing process.
    final class World: @unchecked Sendable {
        // @unchecked: libFuzzer calls the harness from one thread.
        let platform: Platform
        let context: TEEContext
        let session: TEESession
        init() {
            platform = Platform(board: try! PlatformDescription.builtIn("stm32mp15"), extraTrust: FuzzHarnesses.trust)
            var logger = Logger(label: "fuzz")
            logger.logLevel = .critical
            let world = SecureWorld.remoteproc(platform: platform, logger: logger)
            context = TEEContext.embedded(world, peer: .kernel)
            session = try! context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(0)))
        }
    }
    nonisolated(unsafe) static var world: World?

    /// FuzzRemoteProcTA: the (re-signed) input as LOAD_FW through the TA, then the TA's promise
    /// is checked and a violation traps (libFuzzer records the input):
    /// - refused: state OFF (GET_RSC_TABLE → BAD_STATE), every coprocessor byte zero, default
    ///   firewall, no segment in the books;
    /// - accepted: the image verifies, and every loadable segment is in memory at its device
    ///   address, byte for byte, its tail zero; after RELEASE everything is zero again.
    public static func remoteprocTA(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let w = world ?? World()
        world = w
        let image = resign(bytes) ?? bytes
        let load = TEEOperation(.valueInput(0), .tempInput(image))
        let table = TEEOperation(.valueInput(0), .valueOutput, .valueOutput)
        do {
            try w.session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, load)
        } catch {
            let state = (try? w.session.invoke(RemoteProcTA.Command.getResourceTable.rawValue, table)) == nil
            precondition(state, "refused LOAD left the coprocessor in a loaded state")
            precondition(w.platform.isWiped(0), "refused LOAD (\(error)) left bytes in coprocessor memory")
            precondition(w.platform.firewallState(of: 0) == .default, "refused LOAD left the firewall in \(w.platform.firewallState(of: 0))")
            precondition(w.platform.loadedSegments(of: 0).isEmpty, "refused LOAD left segments in the books")
            return
        }
        let verified: VerifiedImage
        do {
            verified = try ImageVerifier.verify(image, trustedKeys: trust)
        } catch {
            preconditionFailure("the TA accepted an image the verifier refuses: \(error.failures)")
        }
        let map = DeviceMemoryMap(board: w.platform.board, coprocessor: 0)
        for (range, elf) in verified.images {
            for segment in elf.loadSegments where segment.memsz > 0 {
                guard let pa = map.pa(forDA: segment.paddr, size: segment.memsz) else { preconditionFailure("accepted segment outside the memory map") }
                let loaded = try! w.platform.read(.secure, pa: pa, count: Int(segment.memsz))
                let start = range.lowerBound + Int(segment.offset)
                let expected = Array(image[start..<(start + Int(segment.filesz))]) + [UInt8](repeating: 0, count: Int(segment.memsz - segment.filesz))
                precondition(loaded == expected, "segment \(segment.index) in memory differs from the signed bytes")
            }
        }
        try! w.session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(0)))
        precondition(w.platform.isWiped(0), "RELEASE left bytes in coprocessor memory")
    }
}

import HelloWorldTA
import TEETransport
import TEEWire

extension FuzzHarnesses {
    /// The secure world the daemon harness talks to: the hello-world TA, no trusted storage.
    nonisolated(unsafe) static var daemonWorld: SecureWorld?

    /// FuzzDaemon: one connection's control messages, region descriptors and frames, as the
    /// daemon handles them (`ConnectionHandler`, the code behind every client socket). The input
    /// is a script of records `u8 kind, u8 flags, u16 length, payload` (the kind in the low nibble):
    /// kind 0 — a control message (`payload`), with a sealed memfd of `(flags >> 1) × 512` bytes
    /// attached when flags bit 0 is set; kind 1 — a TEEWire frame, whose answer must decode as a
    /// response; kind 2 — write `payload` into the last region added (memory changing under the
    /// secure world's feet). Every control reply is exactly 20 bytes or a dropped connection;
    /// nothing traps. The connection is torn down at the end (sessions closed, memory dropped).
    public static func daemonConnection(_ bytes: [UInt8]) {
        let world = daemonWorld ?? {
            var logger = Logger(label: "fuzz")
            logger.logLevel = .critical
            let w = SecureWorld(logger: logger)
            w.register(HelloWorld.self)
            // A supplicant's request for work answers NO_DATA at once (no call ever comes here).
            w.supplicantReceiveWait = 0
            daemonWorld = w
            return w
        }()
        // The first byte's top bits choose the peer: 0x80 the normal-world kernel, 0x40 this
        // process's own user (who may serve as the supplicant); a record's kind is its low nibble.
        let first = bytes.first ?? 0
        let uid = first & 0x40 != 0 ? UInt32(geteuid()) : 1000
        let handler = ConnectionHandler(peer: PeerCredentials(uid: uid, gid: 1000, pid: 1, kernel: first & 0x80 != 0), endpoint: world)
        defer { handler.tearDown() }
        var at = 0
        var regions: [MappedRegion] = []
        while at + 4 <= bytes.count {
            let kind = bytes[at] & 0x0F, flags = bytes[at + 1]
            let length = Int(bytes[at + 2]) | Int(bytes[at + 3]) << 8
            at += 4
            // Attacker: the fuzzer. The record's length is bounded by what is left.
            let payload = Array(bytes[at..<min(bytes.count, at + length)])
            at += payload.count
            switch kind {
            case 0:
                var fd: Int32 = -1
                if flags & 1 != 0, let region = try? MappedRegion.create(count: Int(flags >> 1) * 512, name: "fuzz") {
                    regions.append(region)
                    fd = dup(region.fd)
                }
                guard let reply = handler.control(payload, descriptor: fd) else { return }
                precondition(reply.count == ControlMessage.replySize, "a control reply of \(reply.count) bytes")
            case 1:
                let answer = handler.frame(payload)
                guard case .response? = try? WireCodec.decode(answer) else { preconditionFailure("the secure world answered with a frame that is not a response") }
            case 2:
                if let region = regions.last, !payload.isEmpty { region.store(Array(payload.prefix(region.count)), at: 0) }
            default:
                return
            }
        }
    }
}

extension FuzzHarnesses {
    /// One record of a FuzzDaemon script: kind, flags, the payload's length (u16), the payload.
    static func appendRecord(_ out: inout [UInt8], _ kind: UInt8, _ flags: UInt8, _ payload: [UInt8]) {
        out += [kind, flags, UInt8(payload.count & 0xFF), UInt8(payload.count >> 8)] + payload
    }

    /// A well-formed FuzzDaemon script (the committed seed is this): hello, a 4 KiB region, open
    /// a session to the hello-world TA, increment, SHA-256 and sum of the region, a write into the
    /// region, a bad memref, remove the region, close a channel that does not exist.
    public static func daemonSeed() -> [UInt8] {
        var out: [UInt8] = []
        func record(_ kind: UInt8, _ flags: UInt8, _ payload: [UInt8]) { appendRecord(&out, kind, flags, payload) }
        record(0, 0, ControlMessage(kind: .hello, seq: 1, arg: 1).encoded)
        record(0, (8 << 1) | 1, ControlMessage(kind: .addRegion, seq: 2, arg: 3, size: 4096).encoded)
        record(2, 0, Array("fuzz the daemon".utf8))
        record(1, 0, WireCodec.encode(.request(id: 1, .openSession(uuid: "8aaaf200-2450-11e4-abe2-0002a5d5c51b", login: .public, connectionData: 0, cancelID: 0, params: .none))))
        let value = try! WireParameters(types: ParamTypes(.valueInout), params: [.value(a: 41, b: 0), .none, .none, .none])
        record(1, 0, WireCodec.encode(.request(id: 2, .invoke(session: 1, command: 0, cancelID: 0, params: value))))
        let digest = try! WireParameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(memory: 1, offset: 0, size: 64), .memref(memory: 0, offset: 0, size: 32), .none, .none])
        record(1, 0, WireCodec.encode(.request(id: 3, .invoke(session: 1, command: 2, cancelID: 0, params: digest))))
        let sum = try! WireParameters(types: ParamTypes(.memrefInput, .valueOutput), params: [.memref(memory: 1, offset: 0, size: 4096), .value(a: 0, b: 0), .none, .none])
        record(1, 0, WireCodec.encode(.request(id: 4, .invoke(session: 1, command: 8, cancelID: 0, params: sum))))
        let bad = try! WireParameters(types: ParamTypes(.memrefInput, .valueOutput), params: [.memref(memory: 1, offset: 4000, size: 200), .value(a: 0, b: 0), .none, .none])
        record(1, 0, WireCodec.encode(.request(id: 5, .invoke(session: 1, command: 8, cancelID: 0, params: bad))))
        record(0, 0, ControlMessage(kind: .removeRegion, seq: 3, arg: 1).encoded)
        record(0, 0, ControlMessage(kind: .closeChannel, seq: 4, arg: 9).encoded)
        record(1, 0, WireCodec.encode(.request(id: 6, .closeSession(session: 1))))
        return out
    }

    /// The supplicant's side (committed as supplicant.bin): as this process's user, a region
    /// for plugin data, a request for work (NO_DATA), an answer to no call (BAD_STATE), a request
    /// naming a region it does not have (BAD_PARAMETERS), then one naming the region again.
    public static func daemonSupplicantSeed() -> [UInt8] {
        var out: [UInt8] = []
        func record(_ kind: UInt8, _ flags: UInt8, _ payload: [UInt8]) { appendRecord(&out, kind, flags, payload) }
        record(0x40, 0, ControlMessage(kind: .hello, seq: 1, arg: 1).encoded)
        record(0, (8 << 1) | 1, ControlMessage(kind: .addRegion, seq: 2, arg: 3, size: 4096).encoded)
        record(1, 0, WireCodec.encode(.request(id: 1, .supplicantReceive(memory: 1))))
        record(1, 0, WireCodec.encode(.request(id: 2, .supplicantReply(call: 1, result: .success, outputLength: 4))))
        record(1, 0, WireCodec.encode(.request(id: 3, .supplicantReceive(memory: 9))))
        record(1, 0, WireCodec.encode(.request(id: 4, .supplicantReceive(memory: 1))))
        return out
    }
}
