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
