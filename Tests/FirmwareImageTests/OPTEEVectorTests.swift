import Foundation
import Testing
import TEECrypto
@testable import FirmwareImage

enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: root.appendingPathComponent(path))) }
    static var opteeELF: [UInt8] { get throws { try bytes("Tests/Fixtures/optee-sign/fw.elf") } }
    static var opteeSigned: [UInt8] { get throws { try bytes("Tests/Fixtures/optee-sign/fw.rsa2048.sig") } }
    static var opteeKey: PrivateKey { get throws { try PrivateKey(pemOrDER: try bytes("Tests/Fixtures/optee-sign/vector-rsa2048.pem")) } }
    static var opteePublicKey: PublicKey { get throws { try PublicKey(pemOrDER: try bytes("Tests/Fixtures/optee-sign/vector-rsa2048.pub.pem")) } }
}

/// The image in Tests/Fixtures/optee-sign was written by OP-TEE's own sign_rproc_fw.py.
@Suite struct OPTEEVectorTests {
    @Test func signerReproducesOPTEEByteForByte() throws {
        let ours = try ImageSigner(images: [try Fixture.opteeELF], key: try Fixture.opteeKey).sign()
        let theirs = try Fixture.opteeSigned
        #expect(ours.count == theirs.count)
        if let first = zip(ours, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("first difference at offset \(first.offset)")
        }
        #expect(ours == theirs)
    }

    @Test func verifierAcceptsOPTEEImage() throws {
        let verified = try ImageVerifier.verify(try Fixture.opteeSigned, trustedKeys: TrustedKeys(keys: [try Fixture.opteePublicKey]))
        #expect(verified.metadata.signatureType == .rsaPKCS1v15)
        #expect(verified.metadata.header.tlvLength == 344)
        #expect(verified.metadata.header.signatureLength == 256)
        #expect(verified.metadata.header.imagesLength == 1368)
        #expect(verified.metadata.hashTable.count == 4)
        #expect(verified.images.count == 1)
        #expect(verified.images[0].elf.loadSegments.count == 3)
        let rsc = try #require(verified.resourceTable)
        #expect(rsc.deviceAddress >= 0x1000_0000)
        // fw.c (Tests/Fixtures/optee-sign) declares the trace entry with `.da = 0, .len = 256`.
        #expect(rsc.table.traces == [ResourceTable.Trace(da: 0, length: 256, name: "cm4_log")])
        #expect(verified.signingKey.fingerprint == (try Fixture.opteePublicKey).fingerprint)
    }
}
