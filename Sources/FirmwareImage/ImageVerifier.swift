import TEECrypto

/// Where the firmware's resource table is, once authenticated.
public struct LocatedResourceTable: Sendable {
    public let image: Int
    public let section: SectionHeader
    /// The loadable segment whose signed bytes contain the table.
    public let segment: ProgramHeader
    /// Device address of the table: computed from the signed segment (p_paddr + offset into
    /// it), never taken from the unauthenticated section header.
    public let deviceAddress: UInt64
    public let table: ResourceTable
}

/// What verification found about one image of a bundle.
public struct ImageReport: Sendable {
    public struct Segment: Sendable {
        public let header: ProgramHeader
        public let entry: HashTableEntry?
        /// nil when there was no entry to compare with.
        public let hashMatches: Bool?
        public let fieldsMatch: Bool
    }

    public let index: Int
    public let fileRange: Range<Int>
    public let elf: ELFImage?
    public let segments: [Segment]
}

/// Everything a verification saw, whether or not it succeeded (`rproc-tee inspect` prints it).
public struct VerificationReport: Sendable {
    public enum SignatureStatus: Sendable {
        case notChecked
        case valid(key: PublicKey)
        case failed(ImageError)
    }

    public let metadata: ImageMetadata
    public let images: [ImageReport]
    public let signature: SignatureStatus
    public let resourceTable: LocatedResourceTable?
    /// Every failure found; empty means the image is valid.
    public let failures: [ImageError]
}

/// An image whose signature, hash table, ELF structure, placement, resource table and manifest
/// have all been checked. There is no public initializer: `ImageVerifier.verify` is the only way
/// to obtain one (swift-certificates' ValidatedCertificateChain pattern).
public struct VerifiedImage: Sendable {
    public let metadata: ImageMetadata
    public let images: [(range: Range<Int>, elf: ELFImage)]
    public let signingKey: PublicKey
    public let resourceTable: LocatedResourceTable?
    public var manifest: Manifest { metadata.manifest }

    fileprivate init(report: VerificationReport, key: PublicKey) {
        metadata = report.metadata
        images = report.images.map { ($0.fileRange, $0.elf!) }
        signingKey = key
        resourceTable = report.resourceTable
    }
}

/// Verifies signed images (spec/image-format.md): the signature over header ‖ TLVs with a
/// trusted key, then every hash-table entry against its image's program header and segment
/// bytes, matched by (image, index), then ELF rules, placement, resource table and manifest.
public enum ImageVerifier {
    /// The digest a signature of `type` covers.
    public static func signedDigest(_ metadata: ImageMetadata) -> Digest {
        Digest.hash(metadata.signatureType == .ecdsaP384 ? .sha384 : .sha256, metadata.signedBytes)
    }

    /// Checks the signature against the trusted keys. Returns the key that verified it.
    public static func verifySignature(_ metadata: ImageMetadata, trustedKeys: TrustedKeys) throws -> PublicKey {
        try verifySignature(type: metadata.signatureType, digest: signedDigest(metadata), signature: metadata.signature,
                            keyInfo: metadata.keyInfo, trustedKeys: trustedKeys, offset: metadata.header.signatureOffset)
    }

    /// Checks `signature` of `type` over `digest` with the trusted keys (and a PKEYINFO key whose
    /// hash is trusted and not revoked). Throws `.untrustedKey` when no usable key of the right
    /// kind exists, `.signatureInvalid` when none verifies.
    public static func verifySignature(type: SignatureType, digest: Digest, signature: [UInt8], keyInfo: [UInt8]?,
                                       trustedKeys: TrustedKeys, offset: Int? = nil) throws -> PublicKey {
        let (candidates, revokedCount) = trustedKeys.candidates(keyInfo: keyInfo)
        var triedAny = false
        for key in candidates {
            do {
                switch (type, key) {
                case (.rsaPKCS1v15, .rsa(let rsa)) where rsa.byteCount == signature.count:
                    triedAny = true
                    try rsa.verify(signature: signature, for: digest, padding: .pkcs1v15)
                case (.rsaPSS, .rsa(let rsa)) where rsa.byteCount == signature.count:
                    triedAny = true
                    try rsa.verify(signature: signature, for: digest, padding: .pss(saltLength: .exactly(32)))
                case (.ecdsaP256, .ec(let ec)) where ec.curve == .p256, (.ecdsaP384, .ec(let ec)) where ec.curve == .p384:
                    triedAny = true
                    try ec.verify(signature: try ECDSASignature(rawRepresentation: signature, curve: ec.curve), for: digest)
                default:
                    continue
                }
                return key
            } catch is CryptoError {
                continue
            }
        }
        if !triedAny {
            let why = revokedCount > 0 ? "every matching key is revoked" : "no trusted key can check a \(type.name) signature of \(signature.count) bytes"
            throw ImageError(.untrustedKey, why, offset: offset)
        }
        throw ImageError(.signatureInvalid, "the \(type.name) signature does not verify with any trusted key", offset: offset)
    }

    /// A full report. `trustedKeys` nil skips the signature check (for inspection only).
    public static func report(_ bytes: [UInt8], trustedKeys: TrustedKeys?, policy: ELFPolicy = .firmware) throws -> VerificationReport {
        let metadata = try ImageMetadata(bytes: bytes, fileSize: bytes.count)
        var failures: [ImageError] = []

        var signature = VerificationReport.SignatureStatus.notChecked
        if let trustedKeys {
            do {
                signature = .valid(key: try verifySignature(metadata, trustedKeys: trustedKeys))
            } catch let error as ImageError {
                signature = .failed(error)
                failures.append(error)
            }
        }

        var reports: [ImageReport] = []
        var entryIndex = 0
        var allParsed = true
        for i in 0..<metadata.imageCount {
            let range = metadata.imageRange(i)
            let imageBytes = bytes[range]
            let elf: ELFImage
            do {
                elf = try ELFImage(bytes: imageBytes, policy: policy)
                try elf.checkPadding(SliceSource(slice: imageBytes))
            } catch let error as ImageError {
                failures.append(ImageError(error.code, error.reason, offset: error.offset.map { $0 + range.lowerBound }, image: i))
                reports.append(ImageReport(index: i, fileRange: range, elf: nil, segments: []))
                allParsed = false
                continue
            }
            var segments: [ImageReport.Segment] = []
            for header in elf.programHeaders {
                // Match by (image, index): the entry for this header is at its position in the table.
                // After an image that did not parse, positions are unknown: nothing is matched.
                let entry = allParsed && entryIndex < metadata.hashTable.count ? metadata.hashTable[entryIndex] : nil
                entryIndex += 1
                guard let entry else {
                    segments.append(.init(header: header, entry: nil, hashMatches: nil, fieldsMatch: false))
                    continue
                }
                let fieldsMatch = entry.matches(header)
                if !fieldsMatch {
                    failures.append(ImageError(.hashTableMismatch, "program header \(header.index) differs from its signed hash-table entry", offset: range.lowerBound, image: i))
                }
                let start = range.lowerBound + Int(header.offset)
                let actual = Digest.hash(.sha256, bytes[start..<(start + Int(header.filesz))])
                let hashMatches = (try? Digest(algorithm: .sha256, bytes: entry.hash)) == actual
                if !hashMatches {
                    failures.append(ImageError(.hashMismatch, "segment \(header.index) (\(header.typeName), \(header.filesz) bytes at \(hex(header.offset))) does not match its signed hash", offset: range.lowerBound + Int(header.offset), image: i))
                }
                segments.append(.init(header: header, entry: entry, hashMatches: hashMatches, fieldsMatch: fieldsMatch))
            }
            reports.append(ImageReport(index: i, fileRange: range, elf: elf, segments: segments))
        }
        if allParsed && entryIndex != metadata.hashTable.count {
            failures.append(ImageError(.hashTableMismatch, "the hash table has \(metadata.hashTable.count) entries; the images have \(entryIndex) program headers", offset: metadata.header.tlvOffset))
        }

        let parsed = reports.compactMap { r in r.elf.map { (r.index, $0) } }
        do {
            try ELFImage.checkNoOverlap(parsed.flatMap { i, elf in elf.loadSegments.map { (i, $0) } })
        } catch let error as ImageError {
            failures.append(error)
        }

        var located: LocatedResourceTable?
        let withTables = parsed.filter { $0.1.resourceTableSection != nil }
        if withTables.count > 1 {
            failures.append(ImageError(.multipleResourceTables, "images \(withTables.map { String($0.0) }.joined(separator: " and ")) both have a .resource_table"))
        } else if let (i, elf) = withTables.first, let section = elf.resourceTableSection {
            let range = metadata.imageRange(i)
            if let segment = elf.segment(containing: section), segment.isExecutable {
                // Linux writes into the table; it must never share a segment with code.
                failures.append(ImageError(.resourceTableExecutable, ".resource_table lies in executable segment \(segment.index): the normal world writes into the table, so it must be in a non-executable segment", offset: range.lowerBound + Int(section.offset), image: i))
            } else if let segment = elf.segment(containing: section) {
                do {
                    let start = range.lowerBound + Int(section.offset)
                    let table = try ResourceTable(bytes: Array(bytes[start..<(start + Int(section.size))]), base: start)
                    located = LocatedResourceTable(image: i, section: section, segment: segment,
                                                   deviceAddress: segment.paddr + (section.offset - segment.offset), table: table)
                } catch let error as ImageError {
                    failures.append(error.inImage(i))
                }
            } else {
                failures.append(ImageError(.resourceTableOutsideSegment, ".resource_table [\(hex(section.offset)), +\(hex(section.size))) is not inside a loaded segment's signed bytes", offset: range.lowerBound + Int(section.offset), image: i))
            }
        }

        do {
            try metadata.manifest.checkDependencies()
            if let boot = metadata.manifest.bootAddresses {
                for (i, elf) in parsed {
                    for address in [boot[i].secure, boot[i].nonSecure].compactMap({ $0 }) {
                        let a = UInt64(address)
                        guard elf.loadSegments.contains(where: { a >= $0.paddr && a - $0.paddr < $0.filesz }) else {
                            throw ImageError(.badEntryPoint, "boot address \(hex(address)) is not inside a loaded segment", image: i)
                        }
                    }
                }
            }
        } catch let error as ImageError {
            failures.append(error)
        }

        return VerificationReport(metadata: metadata, images: reports, signature: signature, resourceTable: located, failures: failures)
    }

    /// Verifies `bytes` completely. Starts from "not verified": only a report with a valid
    /// signature and no failures turns into a `VerifiedImage`.
    public static func verify(_ bytes: [UInt8], trustedKeys: TrustedKeys, policy: ELFPolicy = .firmware) throws(ImageVerificationError) -> VerifiedImage {
        let report: VerificationReport
        do {
            report = try self.report(bytes, trustedKeys: trustedKeys, policy: policy)
        } catch let error as ImageError {
            throw ImageVerificationError(failures: [error])
        } catch {
            throw ImageVerificationError(failures: [ImageError(.malformedTLV, "\(error)")])
        }
        guard report.failures.isEmpty, case .valid(let key) = report.signature else {
            throw ImageVerificationError(failures: report.failures)
        }
        return VerifiedImage(report: report, key: key)
    }
}
