import TEECrypto

/// Builds signed images in OP-TEE's format, byte for byte what OP-TEE's
/// `scripts/sign_rproc_fw.py` writes for the same RSA key and inputs: the same TLV order
/// (SIGNTYPE, NUM_IMG, IMGTYPE, IMGSIZE, HASHTYPE, HASHTABLE, PKEYINFO, platform TLVs), one hash
/// entry per program header, every record and image padded to 8. Our manifest TLVs follow.
public struct ImageSigner {
    /// The ELF files, in load order.
    public var images: [[UInt8]]
    public var key: PrivateKey
    /// Defaults to what the key implies: RSA → PKCS#1 v1.5, P-256 → ECDSA P-256, P-384 → ECDSA P-384.
    public var signatureType: SignatureType?
    /// PKEYINFO content (OP-TEE's `--key_info`), copied as is.
    public var keyInfo: [UInt8]?
    /// Platform TLVs in command-line order. A repeated ID keeps its first position and its last
    /// value, as the script's dictionary does.
    public var platformTLVs: [(id: UInt32, value: [UInt8])] = []
    public var manifest = Manifest()
    public var elfPolicy: ELFPolicy = .firmware

    public init(images: [[UInt8]], key: PrivateKey) {
        self.images = images
        self.key = key
    }

    /// `--plat-tlv ID VALUE` as OP-TEE's script reads it: ID in [0x10000, 0x20000) (any base
    /// Python's `int(s, 0)` takes); VALUE `0x…` → a little-endian u32, anything else → UTF-8.
    public static func parsePlatformTLV(id: String, value: String) throws -> (id: UInt32, value: [UInt8]) {
        guard let number = parseInteger(id), TLVType.platformRange.contains(number) else {
            throw ImageError(.badSigningInput, "platform TLV ID \(id) is not in [0x10000, 0x20000)")
        }
        guard !TLVType.manifestRange.contains(number) else {
            throw ImageError(.badSigningInput, "platform TLV ID \(id) is in rproc-tee's manifest range 0x1F000–0x1FFFF; use --name, --version, --security-counter, --depends, --boot-address")
        }
        if value.hasPrefix("0x") {
            guard let word = UInt32(value.dropFirst(2), radix: 16) else {
                throw ImageError(.badSigningInput, "platform TLV value \(value) is not a 32-bit hexadecimal number")
            }
            var bytes: [UInt8] = []
            bytes.appendLE32(word)
            return (number, bytes)
        }
        return (number, Array(value.utf8))
    }

    /// Python's `int(text, 0)` for the forms people write: decimal, 0x, 0o, 0b.
    static func parseInteger(_ text: String) -> UInt32? {
        let lower = text.lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            return UInt32(lower.dropFirst(2), radix: radix)
        }
        if lower.count > 1 && lower.hasPrefix("0") { return nil }
        return UInt32(lower, radix: 10)
    }

    var resolvedSignatureType: SignatureType {
        get throws {
            let type: SignatureType
            switch key {
            case .rsa: type = signatureType ?? .rsaPKCS1v15
            case .ec(let ec): type = signatureType ?? (ec.curve == .p256 ? .ecdsaP256 : .ecdsaP384)
            }
            switch (type, key) {
            case (.rsaPKCS1v15, .rsa), (.rsaPSS, .rsa): return type
            case (.ecdsaP256, .ec(let ec)) where ec.curve == .p256: return type
            case (.ecdsaP384, .ec(let ec)) where ec.curve == .p384: return type
            default: throw ImageError(.badSigningInput, "a \(key.publicKey.algorithmDescription) key cannot make \(type.name) signatures")
            }
        }
    }

    /// The signed image.
    public func sign() throws -> [UInt8] {
        guard (1...255).contains(images.count) else { throw ImageError(.badSigningInput, "a bundle holds 1 to 255 images, not \(images.count)") }
        let type = try resolvedSignatureType
        var hashTable: [UInt8] = [], sizes: [UInt8] = []
        var imagesLength = 0
        var parsed: [ELFImage] = []
        for (i, elf) in images.enumerated() {
            let image: ELFImage
            do { image = try ELFImage(bytes: elf, policy: elfPolicy) } catch let error as ImageError { throw error.inImage(i) }
            parsed.append(image)
            for header in image.programHeaders {
                let hash = Digest.hash(.sha256, elf[Int(header.offset)..<Int(header.offset + header.filesz)]).bytes
                guard let entry = HashTableEntry(header, hash: hash) else {
                    throw ImageError(.badSigningInput, "program header \(header.index) has fields above 32 bits, which the hash table cannot hold", image: i)
                }
                hashTable += entry.encoded
            }
            let padded = elf.count.roundedUp8
            guard padded <= Int(UInt32.max) else { throw ImageError(.badSigningInput, "image \(i) is larger than 4 GiB") }
            sizes.appendLE32(UInt32(padded))
            imagesLength += padded
        }
        guard imagesLength <= Int(UInt32.max) else { throw ImageError(.badSigningInput, "the images add up to more than 4 GiB") }
        try ELFImage.checkNoOverlap(parsed.enumerated().flatMap { i, image in image.loadSegments.map { (i, $0) } })
        let withTables = parsed.indices.filter { parsed[$0].resourceTableSection != nil }
        guard withTables.count <= 1 else {
            throw ImageError(.multipleResourceTables, "images \(withTables.map(String.init).joined(separator: " and ")) both have a .resource_table")
        }
        if !manifest.isEmpty {
            // Check the manifest the way a reader will, before anything is signed.
            let records = manifest.records().map { TLVRecord(type: $0.0, value: $0.1, offset: 0) }
            try Manifest(records: records, imageCount: images.count).checkDependencies()
        }

        var records: [(UInt32, [UInt8])] = [
            (TLVType.signatureType, [type.rawValue]),
            (TLVType.imageCount, [UInt8(images.count)]),
            (TLVType.imageTypes, [UInt8](repeating: 1, count: images.count)),
            (TLVType.imageSizes, sizes),
            (TLVType.hashType, [1]),
            (TLVType.hashTable, hashTable),
        ]
        if let keyInfo { records.append((TLVType.keyInfo, keyInfo)) }
        var platformOrder: [UInt32] = []
        var platformValues: [UInt32: [UInt8]] = [:]
        for (id, value) in platformTLVs {
            if platformValues[id] == nil { platformOrder.append(id) }
            platformValues[id] = value
        }
        for id in platformOrder { records.append((id, platformValues[id]!)) }
        records += manifest.records()
        return try Self.assemble(records: records, images: images, signatureType: type, key: key)
    }

    /// Lays out and signs a container from TLV records and image bytes as given, checking
    /// nothing about them: `sign()` has validated its inputs; tests use this to build damaged
    /// images that are nevertheless correctly signed.
    public static func assemble(records: [(UInt32, [UInt8])], images: [[UInt8]], signatureType type: SignatureType, key: PrivateKey) throws -> [UInt8] {
        var tlvs: [UInt8] = []
        for (recordType, value) in records {
            tlvs.appendLE32(recordType)
            tlvs.appendLE32(UInt32(value.count))
            tlvs += value
            tlvs += [UInt8](repeating: 0, count: paddingTo8(8 + value.count))
        }
        guard tlvs.count <= Int(UInt32.max) else { throw ImageError(.badSigningInput, "the TLV area is larger than 4 GiB") }
        let imagesLength = images.reduce(0) { $0 + $1.count.roundedUp8 }

        let signatureLength: Int
        switch (type, key) {
        case (_, .rsa(let rsa)): signatureLength = (rsa.bitCount + 7) / 8
        case (.ecdsaP256, _): signatureLength = 64
        default: signatureLength = 96
        }
        let header = ContainerHeader(tlvLength: UInt32(tlvs.count), signatureLength: UInt32(signatureLength), imagesLength: UInt32(imagesLength))
        let signed = header.encoded + tlvs
        let signature: [UInt8]
        switch (type, key) {
        case (.rsaPKCS1v15, .rsa(let rsa)): signature = try rsa.signature(for: Digest.hash(.sha256, signed), padding: .pkcs1v15)
        case (.rsaPSS, .rsa(let rsa)): signature = try rsa.signature(for: Digest.hash(.sha256, signed), padding: .pss(saltLength: .exactly(32)))
        case (.ecdsaP256, .ec(let ec)): signature = try ec.signature(for: Digest.hash(.sha256, signed)).rawRepresentation
        case (.ecdsaP384, .ec(let ec)): signature = try ec.signature(for: Digest.hash(.sha384, signed)).rawRepresentation
        default: throw ImageError(.badSigningInput, "key and signature type do not match")
        }
        precondition(signature.count == signatureLength, "signature length differs from the announced sign_len")

        // Areas start at offsets ≡ 4 (mod 8): each is padded by its own length, not the file's.
        var out = signed + signature + [UInt8](repeating: 0, count: paddingTo8(signature.count))
        for elf in images {
            out += elf
            out += [UInt8](repeating: 0, count: paddingTo8(elf.count))
        }
        return out
    }
}
