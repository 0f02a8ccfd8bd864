import TEECrypto
import Testing
import TestSupport
@testable import FirmwareImage

@Suite struct SigningTests {
    @Test func m4ExampleSignsAndVerifies() throws {
        let elf = try ExampleFirmware.m4
        let signed = try ImageSigner(images: [elf], key: ImageBuilder.rsaKey).sign()
        let verified = try ImageVerifier.verify(signed, trustedKeys: ImageBuilder.rsaTrust)
        let image = verified.images[0].elf
        #expect(image.machine == ELFMachine.arm)
        #expect(image.loadSegments.map(\.paddr) == [0x0, 0x18, 0x1000_0000, 0x1000_00C8])
        // The resource table: carveout, trace, vdev with two vrings (Examples/firmware/stm32mp15-m4).
        let table = try #require(verified.resourceTable).table
        #expect(table.carveouts.map(\.name) == ["vdev0buffer"])
        #expect(table.carveouts.first?.da == 0x1004_2000)
        #expect(table.traces.map(\.name) == ["cm4_log"])
        #expect(table.traces.first?.length == 1024)
        let vdev = try #require(table.vdevs.first)
        #expect(vdev.id == 7 && vdev.vrings.count == 2)
        #expect(vdev.vrings.map(\.da) == [0x1004_0000, 0x1004_1000])
        #expect(verified.resourceTable?.deviceAddress == 0x1000_0000)
        // The image bytes sit in the file exactly as given, padded to 8.
        #expect(Array(signed[verified.images[0].range].prefix(elf.count)) == elf)
    }

    @Test(arguments: [
        (KeyType.rsa2048, SignatureType.rsaPKCS1v15), (.rsa3072, .rsaPSS), (.rsa4096, .rsaPKCS1v15),
        (.ecdsaP256, .ecdsaP256), (.ecdsaP384, .ecdsaP384),
    ])
    func everySignatureType(keyType: KeyType, signatureType: SignatureType) throws {
        let key = try PrivateKey(generating: keyType)
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: key)
        signer.signatureType = signatureType
        let signed = try signer.sign()
        let verified = try ImageVerifier.verify(signed, trustedKeys: TrustedKeys(keys: [key.publicKey]))
        #expect(verified.metadata.signatureType == signatureType)
        // Another key of the same kind does not verify it.
        let other = try PrivateKey(generating: keyType)
        #expect(throws: ImageVerificationError.self) { try ImageVerifier.verify(signed, trustedKeys: TrustedKeys(keys: [other.publicKey])) }
    }

    @Test func keyMustMatchSignatureType() throws {
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: ImageBuilder.rsaKey)
        signer.signatureType = .ecdsaP256
        #expect(throws: ImageError(.badSigningInput, "")) { try signer.sign() }
    }

    @Test func m33BundleWithManifest() throws {
        var signer = ImageSigner(images: [try ExampleFirmware.tfmSecure, try ExampleFirmware.zephyrNonSecure], key: ImageBuilder.ecKey)
        var manifest = Manifest()
        manifest.names = ["tfm", "zephyr"]
        manifest.versions = [Manifest.Version("2.1.0")!, Manifest.Version("3.7.0")!]
        manifest.securityCounter = 7
        manifest.dependencies = [Manifest.Dependency(image: 1, dependsOn: 0, minimum: Manifest.Version("2.0.0")!)]
        manifest.bootAddresses = [.init(secure: 0x0E08_0000, nonSecure: nil), .init(secure: nil, nonSecure: 0x8000_0000)]
        signer.manifest = manifest
        let verified = try ImageVerifier.verify(try signer.sign(), trustedKeys: ImageBuilder.ecTrust)
        #expect(verified.manifest == manifest)
        #expect(verified.images.count == 2)
        #expect(verified.metadata.hashTable.count == verified.images.reduce(0) { $0 + $1.elf.programHeaders.count })
        #expect(verified.resourceTable?.image == 1)
        #expect(verified.resourceTable?.table.traces.first?.name == "zephyr_log")
        // The signer refuses a manifest whose dependency the bundle does not meet.
        signer.manifest.versions = [Manifest.Version("1.0.0")!, Manifest.Version("3.7.0")!]
        #expect(throws: ImageError(.dependencyUnmet, "")) { try signer.sign() }
    }

    @Test func signerRefusesBrokenInputs() throws {
        let m4 = try ExampleFirmware.m4
        #expect(throws: ImageError(.overlappingSegments, "")) { try ImageSigner(images: [m4, m4], key: ImageBuilder.rsaKey).sign() }
        #expect(throws: ImageError(.malformedELF, "")) { try ImageSigner(images: [Array(repeating: 0, count: 100)], key: ImageBuilder.rsaKey).sign() }
        #expect(throws: ImageError(.badSigningInput, "")) { try ImageSigner(images: [], key: ImageBuilder.rsaKey).sign() }
        do {
            _ = try ImageSigner(images: [m4, try ExampleFirmware.zephyrNonSecure], key: ImageBuilder.rsaKey).sign()
            Issue.record("two resource tables were signed")
        } catch let error as ImageError {
            #expect(error.code == .multipleResourceTables)
        }
    }

    @Test func keyInfoKeyTrustedByHash() throws {
        let carried = try PrivateKey(generating: .ecdsaP256)
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: carried)
        signer.keyInfo = carried.publicKey.derRepresentation
        let signed = try signer.sign()
        // Not trusted: its hash is not provisioned.
        #expect(throws: ImageVerificationError.self) { try ImageVerifier.verify(signed, trustedKeys: ImageBuilder.ecTrust) }
        // Trusted by hash.
        let trust = TrustedKeys(keyHashes: [carried.publicKey.fingerprint])
        let verified = try ImageVerifier.verify(signed, trustedKeys: trust)
        #expect(verified.signingKey.fingerprint == carried.publicKey.fingerprint)
        // Provisioned but revoked.
        let revoked = TrustedKeys(keyHashes: [carried.publicKey.fingerprint], revoked: [carried.publicKey.fingerprint])
        do {
            _ = try ImageVerifier.verify(signed, trustedKeys: revoked)
            Issue.record("a revoked key was accepted")
        } catch {
            #expect(error.codes == [.untrustedKey])
        }
    }

    @Test func platformTLVsFollowTheScript() throws {
        #expect(try ImageSigner.parsePlatformTLV(id: "0x10001", value: "0x80000000") == (0x10001, [0, 0, 0, 0x80]))
        #expect(try ImageSigner.parsePlatformTLV(id: "65538", value: "secure") == (0x10002, Array("secure".utf8)))
        #expect(throws: ImageError(.badSigningInput, "")) { try ImageSigner.parsePlatformTLV(id: "0xFFFF", value: "x") }
        #expect(throws: ImageError(.badSigningInput, "")) { try ImageSigner.parsePlatformTLV(id: "0x20000", value: "x") }
        #expect(throws: ImageError(.badSigningInput, "")) { try ImageSigner.parsePlatformTLV(id: "0x1F001", value: "x") }
        #expect(throws: ImageError(.badSigningInput, "")) { try ImageSigner.parsePlatformTLV(id: "0x10001", value: "0x100000000") }
        // A repeated ID keeps its first place and its last value, like the script's dict.
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: ImageBuilder.rsaKey)
        signer.platformTLVs = [(0x10002, [1]), (0x10001, [2]), (0x10002, [3])]
        let signed = try signer.sign()
        let metadata = try ImageMetadata(bytes: signed, fileSize: signed.count)
        #expect(metadata.platformRecords.map(\.type) == [0x10002, 0x10001])
        #expect(metadata.platformRecords.map(\.value) == [[3], [2]])
    }
}

@Suite struct ReaderTests {
    @Test func elfReaderOnExampleImages() throws {
        let secure = try ELFImage(bytes: try ExampleFirmware.tfmSecure)
        #expect(secure.entry & ~1 >= 0x0E08_0000)
        #expect(secure.resourceTableSection == nil)
        let ns = try ELFImage(bytes: try ExampleFirmware.zephyrNonSecure)
        #expect(ns.resourceTableSection != nil)
        #expect(ns.sections.contains { $0.name == ".text" })
        // The platform may refuse a machine.
        #expect(throws: ImageError(.unsupportedMachine, "")) { try ELFImage(bytes: try ExampleFirmware.m4, policy: ELFPolicy(machines32: [ELFMachine.riscv])) }
    }

    @Test func resourceTableVendorEntriesAreKeptRaw() throws {
        var table: [UInt8] = []
        for word: UInt32 in [1, 2, 0, 0, 24, 36, 200, 0xAA, 0xBB, 2, 0x1000, 64, 0] { table.appendLE32(word) }
        table += Array("log".utf8) + [UInt8](repeating: 0, count: 29)
        let parsed = try ResourceTable(bytes: table)
        #expect(parsed.entries.count == 2)
        #expect(parsed.entries[0].entry == .vendor(type: 200, bytes: [200, 0, 0, 0, 0xAA, 0, 0, 0, 0xBB, 0, 0, 0]))
        #expect(parsed.traces == [ResourceTable.Trace(da: 0x1000, length: 64, name: "log")])
    }

    @Test func tlvWalkRefusesRecordsPastTheArea() throws {
        var area: [UInt8] = []
        area.appendLE32(TLVType.signatureType)
        area.appendLE32(1)
        area += [1, 0, 0, 0, 0, 0, 0, 0]
        #expect(try ImageMetadata.walk(area, tlvLength: 16, base: 20).count == 1)
        patch32(&area, 4, 9)
        #expect(throws: ImageError(.malformedTLV, "")) { try ImageMetadata.walk(area, tlvLength: 16, base: 20) }
        patch32(&area, 4, 0xFFFF_FFFF)
        #expect(throws: ImageError(.malformedTLV, "")) { try ImageMetadata.walk(area, tlvLength: 16, base: 20) }
    }
}
