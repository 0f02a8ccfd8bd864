import Foundation
import Testing
import TestSupport
@testable import FirmwareImage
import TEECrypto

/// Replays every input the fuzzers ever crashed on (Tests/Fuzz/FailCases) and every seed through
/// the same calls the harnesses make (Tests/Fuzz/Sources). Reaching the end without a trap is the
/// assertion; the counts guard against an empty replay.
@Suite struct FuzzRegressionTests {
    static func inputs(_ folder: String) throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["FailCases", "Seeds"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/\(folder)")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where !name.hasPrefix(".") {
                out.append(("\(kind)/\(folder)/\(name)", Array(try Data(contentsOf: dir.appendingPathComponent(name)))))
            }
        }
        return out
    }

    static let harnessTrust = TrustedKeys(keys: [try! PublicKey(pemOrDER: try! Repository.bytes("Keys/dev-ecdsa-p256.pub.pem"))])

    @Test func containerCases() throws {
        let cases = try Self.inputs("container")
        #expect(cases.count >= 4)
        for (_, bytes) in cases {
            _ = try? ImageVerifier.report(bytes, trustedKeys: Self.harnessTrust, policy: .firmwareAnd64)
        }
        // The seeds signed with the harness key verify: the fuzzer starts from valid images.
        let seed = try Repository.bytes("Tests/Fuzz/Seeds/container/m33-bundle.sig")
        _ = try ImageVerifier.verify(seed, trustedKeys: Self.harnessTrust)
    }

    @Test func elfCases() throws {
        let cases = try Self.inputs("elf")
        #expect(cases.count >= 5)
        for (_, bytes) in cases {
            if let elf = try? ELFImage(bytes: bytes, policy: .firmwareAnd64), let section = elf.resourceTableSection {
                _ = elf.segment(containing: section)
            }
        }
    }

    @Test func resourceTableCases() throws {
        let cases = try Self.inputs("resource-table")
        #expect(cases.count >= 4)
        for (_, bytes) in cases {
            _ = try? ResourceTable(bytes: bytes)
        }
    }
}
