import FirmwareImage
import Foundation
import FuzzHarnesses
import SecureWorld
import Testing
import TestSupport

/// Replays the seeds and crashers of FuzzResigned and FuzzRemoteProcTA (Tests/Fuzz) through the
/// harness bodies themselves: a violated invariant traps, so reaching the end is the assertion.
@Suite struct FuzzHarnessReplayTests {
    static func inputs(_ folder: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for kind in ["FailCases", "Seeds"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/\(folder)")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where !name.hasPrefix(".") {
                out.append(Array(try Data(contentsOf: dir.appendingPathComponent(name))))
            }
        }
        return out
    }

    @Test func resignedCases() throws {
        let cases = try Self.inputs("resigned")
        #expect(cases.count >= 4)
        for bytes in cases { FuzzHarnesses.resigned(bytes) }
        // Re-signing OP-TEE's vector (signed by another key) makes it verify with the harness key:
        // the fuzzer's mutants start past the signature check.
        let vector = try Repository.bytes("Tests/Fuzz/Seeds/resigned/optee-vector.sig")
        #expect(throws: ImageVerificationError.self) { _ = try ImageVerifier.verify(vector, trustedKeys: FuzzHarnesses.trust) }
        _ = try ImageVerifier.verify(try #require(FuzzHarnesses.resign(vector)), trustedKeys: FuzzHarnesses.trust)
    }

    @Test func remoteprocTACases() throws {
        let cases = try Self.inputs("remoteproc-ta")
        #expect(cases.count >= 3)
        for bytes in cases { FuzzHarnesses.remoteprocTA(bytes) }
        // A damaged image (one flipped code byte after re-signing) goes down the refusal path.
        var damaged = try #require(FuzzHarnesses.resign(try Repository.bytes("Tests/Fuzz/Seeds/remoteproc-ta/m4.sig")))
        damaged[damaged.count - 700] ^= 0xFF
        FuzzHarnesses.remoteprocTA(damaged)
    }

    @Test func daemonCases() throws {
        let seed = FuzzHarnesses.daemonSeed()
        // RPROC_TEE_WRITE_SEEDS=1 swift test --filter daemonCases writes the seed (it is committed).
        if ProcessInfo.processInfo.environment["RPROC_TEE_WRITE_SEEDS"] != nil {
            try Data(seed).write(to: Repository.root.appendingPathComponent("Tests/Fuzz/Seeds/daemon/session.bin"))
            try Data(FuzzHarnesses.daemonSupplicantSeed()).write(to: Repository.root.appendingPathComponent("Tests/Fuzz/Seeds/daemon/supplicant.bin"))
        }
        let cases = try Self.inputs("daemon")
        #expect(cases.contains(seed), "the committed seed is the current script")
        #expect(cases.contains(FuzzHarnesses.daemonSupplicantSeed()), "the committed supplicant seed is the current script")
        for bytes in cases { FuzzHarnesses.daemonConnection(bytes) }
        // Truncations of the seed: every prefix is a valid (shorter) script.
        for n in stride(from: 0, to: seed.count, by: 7) { FuzzHarnesses.daemonConnection(Array(seed.prefix(n))) }
    }

    @Test func arithmeticCases() throws {
        let cases = try Self.inputs("arithmetic")
        #expect(cases.count >= 6)
        for bytes in cases { FuzzHarnesses.arithmetic(bytes) }
        // Every prefix of every seed is a (shorter) program: each must run clean too.
        for bytes in cases { for n in stride(from: 0, to: bytes.count, by: 5) { FuzzHarnesses.arithmetic(Array(bytes.prefix(n))) } }
    }

    @Test func storedObjectCases() throws {
        let cases = try Self.inputs("stored-object")
        #expect(cases.count >= 4)
        for bytes in cases {
            FuzzHarnesses.storedObject(bytes)
            for n in 0..<bytes.count { FuzzHarnesses.storedObject(Array(bytes.prefix(n))) }
        }
    }

    /// Trusted storage's object format: the header and node seeds are canonical, every program
    /// seed (and each prefix: a shorter program) runs its differential check clean.
    @Test func storageObjectCases() throws {
        let cases = try Self.inputs("storage-object")
        #expect(cases.count >= 8)
        for bytes in cases {
            FuzzHarnesses.storageObject(bytes)
            switch bytes.first {
            case 0: #expect((try? ObjectHeader.decode(Array(bytes.dropFirst()))) != nil)
            case 1: #expect((try? ObjectFileFormat.checkNode(Array(bytes.dropFirst()))) != nil)
            default: for n in stride(from: 1, to: bytes.count, by: 7) { FuzzHarnesses.storageObject(Array(bytes.prefix(n))) }
            }
        }
    }
}
