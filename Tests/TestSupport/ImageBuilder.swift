import FirmwareImage
import TEECrypto

/// A signed bundle taken apart into TLV records and image bytes, so a test can damage any part
/// and sign the result again with the same key (through the signer's own assembly code).
public struct ImageBuilder {
    public var records: [(UInt32, [UInt8])]
    public var images: [[UInt8]]
    public var type: SignatureType
    public let key: PrivateKey
    /// The images as signed originally: where their program header tables were.
    public var original: [[UInt8]]

    public static let rsaKey: PrivateKey = try! PrivateKey(pemOrDER: try! Repository.bytes("Keys/dev-rsa2048.pem"))
    public static let ecKey: PrivateKey = try! PrivateKey(pemOrDER: try! Repository.bytes("Keys/dev-ecdsa-p256.pem"))
    public static let rsaTrust = TrustedKeys(keys: [rsaKey.publicKey])
    public static let ecTrust = TrustedKeys(keys: [ecKey.publicKey])

    public init(signer: ImageSigner) throws {
        let signed = try signer.sign()
        let metadata = try ImageMetadata(bytes: signed, fileSize: signed.count)
        records = metadata.records.map { ($0.type, $0.value) }
        images = signer.images
        type = metadata.signatureType
        key = signer.key
        original = signer.images
    }

    /// The M4 example signed with the RSA development key.
    public static func m4() throws -> ImageBuilder {
        try ImageBuilder(signer: ImageSigner(images: [try ExampleFirmware.m4], key: rsaKey))
    }

    public func signed() throws -> [UInt8] {
        try ImageSigner.assemble(records: records, images: images, signatureType: type, key: key)
    }

    public func value(_ type: UInt32) -> [UInt8] { records.first { $0.0 == type }!.1 }

    public mutating func set(_ type: UInt32, _ value: [UInt8]) {
        let i = records.firstIndex { $0.0 == type }!
        records[i].1 = value
    }

    /// Recomputes HASHTABLE from the program headers found where the original images had their
    /// tables, reading the (possibly damaged) fields raw, so damage to ELF structure reaches the
    /// ELF checks behind a valid signature instead of stopping at the hash table.
    public mutating func rehash() {
        var table: [UInt8] = []
        for (image, base) in zip(images, original) {
            let phoff = Int(readLE32(base, 28)), phnum = Int(UInt16(base[44]) | UInt16(base[45]) << 8)
            for i in 0..<phnum {
                let at = phoff + 32 * i
                let words = (0..<8).map { readLE32(image, at + 4 * $0) }
                let offset = Int(words[1]), size = Int(words[4])
                let data = offset <= image.count && size <= image.count - offset ? Array(image[offset..<(offset + size)]) : []
                for word in words { table.appendU32(word) }
                table += Digest.hash(.sha256, data).bytes
            }
        }
        set(TLVType.hashTable, table)
    }
}

public func patch32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
    for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

public func patch16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
    bytes[at] = UInt8(truncatingIfNeeded: value)
    bytes[at + 1] = UInt8(truncatingIfNeeded: value >> 8)
}

public func readLE32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}

extension Array where Element == UInt8 {
    public mutating func appendU32(_ value: UInt32) {
        for i in 0..<4 { append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }
}
