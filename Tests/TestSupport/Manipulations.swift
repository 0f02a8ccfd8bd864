import FirmwareImage
import TEECrypto

/// One way to damage a valid signed image, and the refusal it must earn.
public struct Manipulation: Sendable, CustomStringConvertible {
    public let name: String
    public let expected: ImageError.Code
    /// The built-in board whose coprocessor the image is for.
    public var board = "stm32mp15"
    public let damage: @Sendable () throws -> (bytes: [UInt8], trust: TrustedKeys)
    public var description: String { name }

    public init(name: String, expected: ImageError.Code, board: String = "stm32mp15", damage: @escaping @Sendable () throws -> (bytes: [UInt8], trust: TrustedKeys)) {
        self.name = name
        self.expected = expected
        self.board = board
        self.damage = damage
    }

    /// Damage to the signed bytes after signing (the signature no longer matches, or a
    /// structural check fails before it is looked at).
    static func file(_ name: String, _ expected: ImageError.Code, _ edit: @escaping @Sendable (inout [UInt8], ImageMetadata) throws -> Void) -> Manipulation {
        Manipulation(name: name, expected: expected) {
            var bytes = try ImageBuilder.m4().signed()
            let metadata = try ImageMetadata(bytes: bytes, fileSize: bytes.count)
            try edit(&bytes, metadata)
            return (bytes, ImageBuilder.rsaTrust)
        }
    }

    /// Damage to records or image bytes, then signed again with the trusted key.
    static func resigned(_ name: String, _ expected: ImageError.Code, _ edit: @escaping @Sendable (inout ImageBuilder) throws -> Void) -> Manipulation {
        Manipulation(name: name, expected: expected) {
            var builder = try ImageBuilder.m4()
            try edit(&builder)
            return (try builder.signed(), ImageBuilder.rsaTrust)
        }
    }

    /// Damage to the M4 ELF, hash table recomputed, signed again.
    static func elf(_ name: String, _ expected: ImageError.Code, _ edit: @escaping @Sendable (inout [UInt8], ELFImage) throws -> Void) -> Manipulation {
        resigned(name, expected) { builder in
            let elf = try ELFImage(bytes: builder.images[0])
            try edit(&builder.images[0], elf)
            builder.rehash()
        }
    }

    /// Damage to the resource table's bytes inside the signed segment, rehashed and re-signed.
    static func resourceTable(_ name: String, _ edit: @escaping @Sendable (inout [UInt8], Int) -> Void) -> Manipulation {
        elf(name, .malformedResourceTable) { bytes, elf in
            edit(&bytes, Int(elf.resourceTableSection!.offset))
        }
    }
}

let phoff = 0x34
func ph(_ index: Int, _ field: Int) -> Int { phoff + 32 * index + 4 * field }
// Program header fields.
let pOffset = 1, pVaddr = 2, pPaddr = 3, pFilesz = 4, pMemsz = 5

/// The damaged-image table (MCUboot's ImageManipulation, in spirit): every entry takes the signed M4 example, damages it one named way, and expects
/// one named error as the first failure.
public let manipulations: [Manipulation] = [
    // Header
    .file("magic", .badMagic) { b, _ in b[0] ^= 0xFF },
    .file("version 2", .unsupportedVersion) { b, _ in patch32(&b, 4, 2) },
    .file("tlv_len zero", .badLength) { b, _ in patch32(&b, 8, 0) },
    .file("sign_len zero", .badLength) { b, _ in patch32(&b, 12, 0) },
    .file("img_len zero", .badLength) { b, _ in patch32(&b, 16, 0) },
    .file("tlv_len too large", .truncated) { b, _ in patch32(&b, 8, 0xFFFF_FFF8) },
    .file("img_len too large", .truncated) { b, m in patch32(&b, 16, m.header.imagesLength + 8) },
    .file("img_len too small", .trailingBytes) { b, m in patch32(&b, 16, m.header.imagesLength - 8) },
    .file("lengths whose 32-bit sum wraps", .truncated) { b, _ in patch32(&b, 8, 0xFFFF_FF00); patch32(&b, 12, 0x0000_0200) },
    .file("sign_len one byte short (the last signature byte becomes padding)", .nonZeroPadding) { b, m in patch32(&b, 12, m.header.signatureLength - 1) },
    .file("signature truncated by 8 bytes", .badLength) { b, m in
        patch32(&b, 12, m.header.signatureLength - 8)
        b.removeSubrange(m.header.signatureOffset..<(m.header.signatureOffset + 8))
    },
    .file("file one byte short", .truncated) { b, _ in b.removeLast() },
    .file("file one byte long", .trailingBytes) { b, _ in b.append(0) },
    .file("file eight bytes long", .trailingBytes) { b, _ in b += [UInt8](repeating: 0, count: 8) },
    .file("only the header", .truncated) { b, _ in b = Array(b[0..<20]) },
    .file("shorter than a header", .truncated) { b, _ in b = Array(b[0..<12]) },
    // TLVs (not re-signed: structure is checked before the signature)
    .file("TLV length overruns the area", .malformedTLV) { b, m in patch32(&b, m.records[0].offset + 4, 0x1000) },
    .file("TLV length overruns by one", .malformedTLV) { b, m in
        let last = m.records.last!
        patch32(&b, last.offset + 4, UInt32(Int(m.header.tlvLength) - (last.offset - 20) - 8 + 1))
    },
    .file("duplicate TLV", .duplicateTLV) { b, m in patch32(&b, m.records[1].offset, TLVType.signatureType) },
    .file("TLV padding not zero", .nonZeroPadding) { b, m in b[m.records[0].offset + 9] = 1 },
    .file("unknown generic TLV type", .malformedTLV) { b, m in patch32(&b, m.records[1].offset, 0x20) },
    .file("unknown signature type", .unknownSignatureType) { b, m in b[m.records[0].offset + 8] = 9 },
    .file("signature type ECDSA with an RSA-sized signature", .badLength) { b, m in b[m.records[0].offset + 8] = 2 },
    .file("hash type 2", .unsupportedHashType) { b, m in
        let r = m.records.first { $0.type == TLVType.hashType }!
        b[r.offset + 8] = 2
    },
    .file("NUM_IMG zero", .badImageCount) { b, m in b[m.records.first { $0.type == TLVType.imageCount }!.offset + 8] = 0 },
    .file("image type 2", .unsupportedImageType) { b, m in b[m.records.first { $0.type == TLVType.imageTypes }!.offset + 8] = 2 },
    .file("IMGSIZE past img_len", .badImageSize) { b, m in
        let r = m.records.first { $0.type == TLVType.imageSizes }!
        patch32(&b, r.offset + 8, UInt32(m.imageSizes[0] + 8))
    },
    .file("IMGSIZE not a multiple of 8", .badImageSize) { b, m in
        let r = m.records.first { $0.type == TLVType.imageSizes }!
        patch32(&b, r.offset + 8, UInt32(m.imageSizes[0] - 1))
    },
    .file("HASHTABLE missing", .missingTLV) { b, m in patch32(&b, m.records.first { $0.type == TLVType.hashTable }!.offset, 0x10009) },
    .file("HASHTABLE not a multiple of 64", .malformedTLV) { b, m in
        let r = m.records.first { $0.type == TLVType.hashTable }!
        patch32(&b, r.offset + 4, UInt32(r.value.count - 8))
    },
    .file("SIGNTYPE two bytes long", .malformedTLV) { b, m in patch32(&b, m.records[0].offset + 4, 2) },
    // Signature
    .file("signature bit flipped", .signatureInvalid) { b, m in b[m.header.signatureOffset + 100] ^= 0x04 },
    .file("signed TLV byte flipped", .signatureInvalid) { b, m in
        b[m.records.first { $0.type == TLVType.hashTable }!.offset + 8 + 40] ^= 0x01
    },
    .file("img_len grown with the file (IMGSIZE disagrees)", .badImageSize) { b, m in
        patch32(&b, 16, m.header.imagesLength + 8)
        b += [UInt8](repeating: 0, count: 8)
    },
    Manipulation(name: "signed by another key", expected: .signatureInvalid) {
        let other = try PrivateKey(generating: .rsa2048)
        return (try ImageSigner(images: [try ExampleFirmware.m4], key: other).sign(), ImageBuilder.rsaTrust)
    },
    Manipulation(name: "signed with a key type no trusted key has", expected: .untrustedKey) {
        (try ImageBuilder.m4().signed(), ImageBuilder.ecTrust)
    },
    Manipulation(name: "trusted key revoked", expected: .untrustedKey) {
        let key = ImageBuilder.rsaKey.publicKey
        return (try ImageBuilder.m4().signed(), TrustedKeys(keys: [key], revoked: [key.fingerprint]))
    },
    // Hash table (re-signed)
    .resigned("hash table one entry short", .hashTableMismatch) { b in b.set(TLVType.hashTable, Array(b.value(TLVType.hashTable).dropLast(64))) },
    .resigned("hash table one entry long", .hashTableMismatch) { b in b.set(TLVType.hashTable, b.value(TLVType.hashTable) + b.value(TLVType.hashTable).prefix(64)) },
    .resigned("hash table entry field differs", .hashTableMismatch) { b in
        var t = b.value(TLVType.hashTable)
        patch32(&t, 64 * 3 + 20, readLE32(t, 64 * 3 + 20) + 4)
        b.set(TLVType.hashTable, t)
    },
    .resigned("hash table entries swapped", .hashTableMismatch) { b in
        let t = b.value(TLVType.hashTable)
        b.set(TLVType.hashTable, Array(t[64..<128] + t[0..<64] + t[128...]))
    },
    .resigned("signed hash wrong", .hashMismatch) { b in
        var t = b.value(TLVType.hashTable)
        t[64 + 32 + 5] ^= 0x80
        b.set(TLVType.hashTable, t)
    },
    .file("segment byte changed after signing", .hashMismatch) { b, m in
        let elf = try ELFImage(bytes: Array(b[m.imageRange(0)]))
        b[m.imageRange(0).lowerBound + Int(elf.loadSegments[1].offset) + 3] ^= 0x20
    },
    // ELF (hash table recomputed, re-signed)
    .elf("ELF magic", .malformedELF) { b, _ in b[1] = 0x44 },
    .elf("ELF class 3", .malformedELF) { b, _ in b[4] = 3 },
    .elf("ELF big-endian", .malformedELF) { b, _ in b[5] = 2 },
    .elf("ELF type relocatable", .malformedELF) { b, _ in patch16(&b, 16, 1) },
    .elf("ELF machine x86", .unsupportedMachine) { b, _ in patch16(&b, 18, 3) },
    .elf("ELF64 where the platform takes ELF32 only", .unsupportedMachine) { b, _ in b[4] = 2 },
    .elf("e_phentsize 33", .malformedELF) { b, _ in patch16(&b, 42, 33) },
    .elf("e_phoff past the file", .segmentOutOfBounds) { b, _ in patch32(&b, 28, 0xFFFF_FFF0) },
    .elf("e_phoff + e_phnum × e_phentsize past the file", .segmentOutOfBounds) { b, _ in patch16(&b, 44, 1000) },
    .elf("e_phnum above the cap", .malformedELF) { b, _ in patch16(&b, 44, 0xFFFF) },
    .elf("e_phnum zero", .noLoadableSegment) { b, _ in patch16(&b, 44, 0) },
    .elf("segment past the file", .segmentOutOfBounds) { b, _ in patch32(&b, ph(1, pFilesz), 0x10_0000); patch32(&b, ph(1, pMemsz), 0x10_0000) },
    .elf("segment offset past the file", .segmentOutOfBounds) { b, _ in patch32(&b, ph(1, pOffset), 0xFFFF_FF00) },
    .elf("p_filesz > p_memsz", .badSegmentSize) { b, _ in patch32(&b, ph(3, pMemsz), 2) },
    .elf("destination wraps", .addressWraps) { b, _ in patch32(&b, ph(3, pPaddr), 0xFFFF_FF00) },
    .elf("overlapping segments", .overlappingSegments) { b, _ in patch32(&b, ph(2, pPaddr), 0x10) },
    .elf("entry point outside text", .badEntryPoint) { b, _ in patch32(&b, 24, 0x1000_0000) },
    .elf("entry point in a non-executable segment", .badEntryPoint) { b, _ in patch32(&b, 24, 0x0000_0001) },
    .elf("e_shstrndx out of range", .malformedELF) { b, _ in patch16(&b, 50, 200) },
    .elf("e_shentsize wrong", .malformedELF) { b, _ in patch16(&b, 46, 41) },
    .elf("section table past the file", .segmentOutOfBounds) { b, _ in patch32(&b, 32, UInt32(b.count - 8)) },
    .elf("resource table outside every segment", .resourceTableOutsideSegment) { b, elf in
        let section = elf.resourceTableSection!
        patch32(&b, Int(readLE32(b, 32)) + 40 * section.index + 16, 0)
    },
    // Found by FuzzRemoteProcTA: the TA loaded an image whose non-loaded segment (ARM_EXIDX)
    // did not match its signed hash, which the verifier refuses.
    .resigned("signed hash of a non-loaded segment wrong", .hashMismatch) { builder in
        let elf = try ELFImage(bytes: builder.images[0])
        guard let index = elf.programHeaders.firstIndex(where: { !$0.isLoad }) else { throw ImageError(.badSigningInput, "the example has no non-loaded segment") }
        var table = builder.value(TLVType.hashTable)
        table[HashTableEntry.size * index + 32] ^= 0x01
        builder.set(TLVType.hashTable, table)
    },
    .elf("resource table in an executable segment", .resourceTableExecutable) { b, elf in
        let segment = elf.segment(containing: elf.resourceTableSection!)!
        patch32(&b, ph(segment.index, 6), segment.flags | 1)
    },
    // Padding after an image, up to its 8-byte-rounded IMGSIZE, must be zero (spec §1).
    .resigned("non-zero padding after the ELF, inside IMGSIZE", .nonZeroPadding) { builder in
        builder.images[0] += [0x5A]
        let padded = (builder.images[0].count + 7) & ~7
        var sizes: [UInt8] = []
        sizes.appendU32(UInt32(padded))
        builder.set(TLVType.imageSizes, sizes)
    },
    .resigned("non-zero slack the ELF headers do not account for", .nonZeroPadding) { builder in
        builder.images[0] += [0, 0, 0, 0, 0, 0, 0, 1]
        var sizes: [UInt8] = []
        sizes.appendU32(UInt32((builder.images[0].count + 7) & ~7))
        builder.set(TLVType.imageSizes, sizes)
    },
    .elf("two .resource_table sections in one image", .multipleResourceTables) { b, elf in
        let section = elf.resourceTableSection!
        let shoff = Int(readLE32(b, 32))
        // Give the .data section the resource table's name.
        let data = elf.sections.first { $0.name == ".data" }!
        patch32(&b, shoff + 40 * data.index, readLE32(b, shoff + 40 * section.index))
    },
    // Resource table (its bytes are in a signed segment: rehashed and re-signed)
    .resourceTable("resource table version 2") { b, at in patch32(&b, at, 2) },
    .resourceTable("resource table reserved word") { b, at in patch32(&b, at + 8, 1) },
    .resourceTable("resource table num too large") { b, at in patch32(&b, at + 4, 1000) },
    .resourceTable("resource table offset past the end") { b, at in patch32(&b, at + 16, 0x1000) },
    .resourceTable("resource table offset inside the header") { b, at in patch32(&b, at + 16, 4) },
    .resourceTable("resource table offset misaligned") { b, at in patch32(&b, at + 16, readLE32(b, at + 16) + 2) },
    .resourceTable("resource table entry truncated by the next") { b, at in patch32(&b, at + 20, readLE32(b, at + 16) + 8) },
    .resourceTable("resource table unknown type") { b, at in patch32(&b, at + Int(readLE32(b, at + 16)), 77) },
    .resourceTable("carveout reserved word") { b, at in patch32(&b, at + Int(readLE32(b, at + 16)) + 20, 1) },
    .resourceTable("trace name not terminated") { b, at in
        let trace = at + Int(readLE32(b, at + 20))
        for i in 0..<32 { b[trace + 16 + i] = 0x41 }
    },
    .resourceTable("vdev with three vrings") { b, at in b[at + Int(readLE32(b, at + 24)) + 25] = 3 },
    .resourceTable("vdev config past the table") { b, at in patch32(&b, at + Int(readLE32(b, at + 24)) + 20, 0x100) },
    .resourceTable("vring with zero entries") { b, at in patch32(&b, at + Int(readLE32(b, at + 24)) + 28 + 8, 0) },
    // Multi-image and manifest
    Manipulation(name: "two images with resource tables", expected: .multipleResourceTables) {
        let key = ImageBuilder.ecKey
        var builder = try ImageBuilder(signer: ImageSigner(images: [try ExampleFirmware.tfmSecure, try ExampleFirmware.zephyrNonSecure], key: key))
        builder.images = [try ExampleFirmware.m4, try ExampleFirmware.zephyrNonSecure]
        var sizes: [UInt8] = []
        for image in builder.images { sizes.appendU32(UInt32((image.count + 7) & ~7)) }
        builder.set(TLVType.imageSizes, sizes)
        builder.original = builder.images
        builder.rehash()
        return (try builder.signed(), ImageBuilder.ecTrust)
    },
    Manipulation(name: "images overlapping each other", expected: .overlappingSegments, board: "stm32mp25") {
        var builder = try ImageBuilder(signer: ImageSigner(images: [try ExampleFirmware.tfmSecure, try ExampleFirmware.zephyrNonSecure], key: ImageBuilder.ecKey))
        // Move the non-secure image's code onto the secure image's.
        patch32(&builder.images[1], ph(1, pPaddr), 0x0E08_0020)
        builder.rehash()
        return (try builder.signed(), ImageBuilder.ecTrust)
    },
    Manipulation(name: "manifest dependency not met", expected: .dependencyUnmet, board: "stm32mp25") {
        var builder = try ImageBuilder(signer: ImageSigner(images: [try ExampleFirmware.tfmSecure, try ExampleFirmware.zephyrNonSecure], key: ImageBuilder.ecKey))
        var manifest = Manifest()
        manifest.versions = [Manifest.Version(major: 1, minor: 9, patch: 0), Manifest.Version(major: 3, minor: 7, patch: 0)]
        manifest.dependencies = [Manifest.Dependency(image: 1, dependsOn: 0, minimum: Manifest.Version(major: 2, minor: 0, patch: 0))]
        builder.records += manifest.records()
        return (try builder.signed(), ImageBuilder.ecTrust)
    },
    .resigned("manifest names for the wrong number of images", .badManifest) { b in b.records.append((TLVType.imageNames, Array("a\0b\0".utf8))) },
    .resigned("manifest versions truncated", .badManifest) { b in b.records.append((TLVType.imageVersions, [1, 0, 0])) },
    .resigned("unknown manifest TLV", .badManifest) { b in b.records.append((0x1F0FF, [0])) },
    .resigned("boot address outside the image", .badEntryPoint) { b in
        var v: [UInt8] = []
        v.appendU32(0x2000_0000); v.appendU32(.max)
        b.records.append((TLVType.bootAddresses, v))
    },
]

