/// The 20-byte header of a signed image and the layout it implies.
public struct ContainerHeader: Sendable, Hashable {
    public static let size = 20
    public static let magic: UInt32 = 0x3543_A468
    public static let version: UInt32 = 1

    public let tlvLength: UInt32
    public let signatureLength: UInt32
    public let imagesLength: UInt32

    public var tlvOffset: Int { Self.size }
    public var signatureOffset: Int { Self.size + Int(tlvLength).roundedUp8 }
    public var imagesOffset: Int { signatureOffset + Int(signatureLength).roundedUp8 }
    /// The exact file size this header announces.
    public var fileSize: Int { imagesOffset + Int(imagesLength).roundedUp8 }
    /// Header + TLV area + signature area: what must be copied before anything else is read.
    public var metadataSize: Int { imagesOffset }

    /// Parses and checks the header. The lengths are 32-bit, so on our 64-bit hosts every sum
    /// below stays far from `Int.max`: no layout computation can wrap.
    public init(bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        // Attacker-controlled: all five words.
        let magic = try r.u32("magic")
        guard magic == Self.magic else { throw ImageError(.badMagic, "magic \(hex(magic)) is not \(hex(Self.magic))", offset: 0) }
        let version = try r.u32("version")
        guard version == Self.version else { throw ImageError(.unsupportedVersion, "format version \(version) is not 1", offset: 4) }
        tlvLength = try r.u32("tlv_len")
        signatureLength = try r.u32("sign_len")
        imagesLength = try r.u32("img_len")
        guard tlvLength > 0 else { throw ImageError(.badLength, "tlv_len is zero", offset: 8) }
        guard signatureLength > 0 else { throw ImageError(.badLength, "sign_len is zero", offset: 12) }
        guard imagesLength > 0 else { throw ImageError(.badLength, "img_len is zero", offset: 16) }
    }

    init(tlvLength: UInt32, signatureLength: UInt32, imagesLength: UInt32) {
        self.tlvLength = tlvLength
        self.signatureLength = signatureLength
        self.imagesLength = imagesLength
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        for word in [Self.magic, Self.version, tlvLength, signatureLength, imagesLength] { out.appendLE32(word) }
        return out
    }
}

extension Int {
    /// Rounded up to a multiple of 8; only used on values from 32-bit fields (cannot overflow).
    var roundedUp8: Int { (self + 7) & ~7 }
}

/// Everything in a signed image before the images themselves: header, TLVs, signature, parsed
/// and checked. It is built from a private copy of those bytes (`signedBytes` + signature),
/// never from memory a client can still change.
public struct ImageMetadata: Sendable {
    public let header: ContainerHeader
    public let records: [TLVRecord]
    public let signatureType: SignatureType
    public let imageCount: Int
    /// IMGSIZE: each image's size in the file, padded to 8.
    public let imageSizes: [Int]
    public let hashTable: [HashTableEntry]
    public let keyInfo: [UInt8]?
    /// Platform TLVs outside our manifest range, in file order.
    public let platformRecords: [TLVRecord]
    public let manifest: Manifest
    /// Exactly `sign_len` bytes.
    public let signature: [UInt8]
    /// header ‖ TLV area (rounded to 8): the bytes the signature covers.
    public let signedBytes: [UInt8]

    /// The file range of image `i`.
    public func imageRange(_ i: Int) -> Range<Int> {
        let start = header.imagesOffset + imageSizes[..<i].reduce(0, +)
        return start..<(start + imageSizes[i])
    }

    /// Parses the metadata from `bytes`, which must hold at least `header.metadataSize` bytes
    /// (more are ignored), for a file of `fileSize` bytes.
    public init(bytes: [UInt8], fileSize: Int) throws {
        guard bytes.count >= ContainerHeader.size else {
            throw ImageError(.truncated, "\(bytes.count) bytes cannot hold the 20-byte header", offset: 0)
        }
        let header = try ContainerHeader(bytes: Array(bytes[0..<ContainerHeader.size]))
        // Attacker-controlled: the three lengths must add up to exactly the file size.
        guard fileSize == header.fileSize else {
            let code: ImageError.Code = fileSize > header.fileSize ? .trailingBytes : .truncated
            throw ImageError(code, "the header announces \(header.fileSize) bytes (20 + \(Int(header.tlvLength).roundedUp8) + \(Int(header.signatureLength).roundedUp8) + \(Int(header.imagesLength).roundedUp8)); the file has \(fileSize)", offset: 8)
        }
        guard bytes.count >= header.metadataSize else {
            throw ImageError(.truncated, "metadata needs \(header.metadataSize) bytes, \(bytes.count) given", offset: ContainerHeader.size)
        }
        self.header = header
        let tlvArea = Array(bytes[header.tlvOffset..<header.signatureOffset])
        signedBytes = Array(bytes[0..<header.signatureOffset])
        let records = try Self.walk(tlvArea, tlvLength: Int(header.tlvLength), base: header.tlvOffset)
        self.records = records

        let sigArea = Array(bytes[header.signatureOffset..<header.imagesOffset])
        self.signature = Array(sigArea[..<Int(header.signatureLength)])
        try Self.requireZero(sigArea[Int(header.signatureLength)...], "signature padding", base: header.signatureOffset + Int(header.signatureLength))

        func find(_ type: UInt32) -> TLVRecord? { records.first { $0.type == type } }
        let tlvOffset = header.tlvOffset
        func require(_ type: UInt32) throws -> TLVRecord {
            guard let r = find(type) else { throw ImageError(.missingTLV, "\(TLVType.name(type)) is missing", offset: tlvOffset) }
            return r
        }
        func single(_ record: TLVRecord) throws -> UInt8 {
            guard record.value.count == 1 else {
                throw ImageError(.malformedTLV, "\(TLVType.name(record.type)) is \(record.value.count) bytes, not 1", offset: record.offset + 4)
            }
            return record.value[0]
        }

        // Attacker-controlled: every typed TLV's length and value, checked against the spec.
        let signRecord = try require(TLVType.signatureType)
        let signByte = try single(signRecord)
        guard let signatureType = SignatureType(rawValue: signByte) else {
            throw ImageError(.unknownSignatureType, "SIGNTYPE \(signByte) is not 1 (RSA PKCS#1 v1.5), 2 (ECDSA P-256), 3 (RSA-PSS) or 4 (ECDSA P-384)", offset: signRecord.offset + 8)
        }
        if let fixed = signatureType.fixedSignatureLength, fixed != Int(header.signatureLength) {
            throw ImageError(.badLength, "sign_len \(header.signatureLength) is not \(fixed) for \(signatureType.name)", offset: 12)
        }
        if signatureType.isRSA, ![256, 384, 512].contains(Int(header.signatureLength)) {
            throw ImageError(.badLength, "sign_len \(header.signatureLength) is not an RSA-2048/3072/4096 signature size", offset: 12)
        }
        self.signatureType = signatureType

        let hashRecord = try require(TLVType.hashType)
        let hashByte = try single(hashRecord)
        guard hashByte == 1 else { throw ImageError(.unsupportedHashType, "HASHTYPE \(hashByte) is not 1 (SHA-256)", offset: hashRecord.offset + 8) }

        let countRecord = try require(TLVType.imageCount)
        let count = Int(try single(countRecord))
        guard count >= 1 else { throw ImageError(.badImageCount, "NUM_IMG is 0", offset: countRecord.offset + 8) }
        imageCount = count

        let typeRecord = try require(TLVType.imageTypes)
        guard typeRecord.value.count == count else {
            throw ImageError(.malformedTLV, "IMGTYPE has \(typeRecord.value.count) bytes for \(count) images", offset: typeRecord.offset + 4)
        }
        if let bad = typeRecord.value.firstIndex(where: { $0 != 1 }) {
            throw ImageError(.unsupportedImageType, "image \(bad) has type \(typeRecord.value[bad]); only 1 (ELF) is supported", offset: typeRecord.offset + 8 + bad)
        }

        let sizeRecord = try require(TLVType.imageSizes)
        guard sizeRecord.value.count == 4 * count else {
            throw ImageError(.malformedTLV, "IMGSIZE has \(sizeRecord.value.count) bytes for \(count) images (needs \(4 * count))", offset: sizeRecord.offset + 4)
        }
        var sizes: [Int] = []
        var total = 0
        for i in 0..<count {
            let size = Int(readLE32(sizeRecord.value, 4 * i))
            guard size > 0, size % 8 == 0 else {
                throw ImageError(.badImageSize, "IMGSIZE[\(i)] = \(size) is not a non-zero multiple of 8", offset: sizeRecord.offset + 8 + 4 * i)
            }
            total += size  // ≤ 255 × (2^32 − 1): cannot overflow Int on 64-bit hosts.
            sizes.append(size)
        }
        guard total == Int(header.imagesLength) else {
            throw ImageError(.badImageSize, "IMGSIZE adds up to \(total) bytes but img_len is \(header.imagesLength)", offset: sizeRecord.offset + 8)
        }
        imageSizes = sizes

        let tableRecord = try require(TLVType.hashTable)
        guard !tableRecord.value.isEmpty, tableRecord.value.count % HashTableEntry.size == 0 else {
            throw ImageError(.malformedTLV, "HASHTABLE is \(tableRecord.value.count) bytes, not a non-zero multiple of 64", offset: tableRecord.offset + 4)
        }
        var table: [HashTableEntry] = []
        var t = ByteReader(tableRecord.value, base: tableRecord.offset + 8)
        for _ in 0..<(tableRecord.value.count / HashTableEntry.size) {
            table.append(HashTableEntry(type: try t.u32("p_type"), offset: try t.u32("p_offset"), vaddr: try t.u32("p_vaddr"),
                                        paddr: try t.u32("p_paddr"), filesz: try t.u32("p_filesz"), memsz: try t.u32("p_memsz"),
                                        flags: try t.u32("p_flags"), align: try t.u32("p_align"), hash: try t.take(32, "hash")))
        }
        hashTable = table

        keyInfo = find(TLVType.keyInfo)?.value
        platformRecords = records.filter { TLVType.platformRange.contains($0.type) && !TLVType.manifestRange.contains($0.type) }
        manifest = try Manifest(records: records.filter { TLVType.manifestRange.contains($0.type) }, imageCount: count)
    }

    private static let knownGenericTypes: Set<UInt32> = [
        TLVType.signatureType, TLVType.hashType, TLVType.imageCount, TLVType.imageTypes,
        TLVType.imageSizes, TLVType.hashTable, TLVType.keyInfo,
    ]

    /// Walks the TLV area: records back to back, each padded with zeros to a multiple of 8.
    static func walk(_ area: [UInt8], tlvLength: Int, base: Int) throws -> [TLVRecord] {
        var records: [TLVRecord] = []
        var seen = Set<UInt32>()
        var position = 0
        while position < tlvLength {
            let at = base + position
            // Attacker-controlled: the record header must fit in tlv_len.
            guard tlvLength - position >= 8 else {
                throw ImageError(.malformedTLV, "\(tlvLength - position) bytes left in the TLV area cannot hold a record header", offset: at)
            }
            let type = readLE32(area, position), length = Int(readLE32(area, position + 4))
            // Attacker-controlled: the record length. The value must end inside tlv_len; the
            // comparison is against what is left, so it cannot wrap.
            guard length <= tlvLength - position - 8 else {
                throw ImageError(.malformedTLV, "\(TLVType.name(type)) claims \(length) bytes; only \(tlvLength - position - 8) remain in the TLV area", offset: at + 4)
            }
            guard knownGenericTypes.contains(type) || TLVType.platformRange.contains(type) else {
                throw ImageError(.malformedTLV, "unknown TLV type \(hex(type))", offset: at)
            }
            guard seen.insert(type).inserted else {
                throw ImageError(.duplicateTLV, "\(TLVType.name(type)) appears twice", offset: at)
            }
            let valueStart = position + 8
            records.append(TLVRecord(type: type, value: Array(area[valueStart..<(valueStart + length)]), offset: at))
            let padding = paddingTo8(8 + length)
            // The padding must lie inside the (rounded) TLV area and be zero.
            guard valueStart + length + padding <= area.count else {
                throw ImageError(.malformedTLV, "\(TLVType.name(type)) padding runs past the TLV area", offset: at)
            }
            try requireZero(area[(valueStart + length)..<(valueStart + length + padding)], "\(TLVType.name(type)) padding", base: base + valueStart + length)
            position = valueStart + length + padding
        }
        try requireZero(area[min(position, area.count)...], "TLV area padding", base: base + position)
        return records
    }

    static func requireZero(_ bytes: ArraySlice<UInt8>, _ what: String, base: Int) throws {
        if let i = bytes.firstIndex(where: { $0 != 0 }) {
            throw ImageError(.nonZeroPadding, "\(what) is not zero", offset: base + (i - bytes.startIndex))
        }
    }
}
