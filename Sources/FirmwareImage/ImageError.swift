/// An error from reading, verifying or writing a firmware image: a code to compare on, a human
/// reason, the byte offset in the file (or in the image, see `image`) where it applies, and
/// where in our code it was raised.
public struct ImageError: Error, Hashable, Sendable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Container
        public static let truncated = Code(rawValue: "truncated")
        public static let badMagic = Code(rawValue: "badMagic")
        public static let unsupportedVersion = Code(rawValue: "unsupportedVersion")
        public static let badLength = Code(rawValue: "badLength")
        public static let trailingBytes = Code(rawValue: "trailingBytes")
        public static let nonZeroPadding = Code(rawValue: "nonZeroPadding")
        // TLVs
        public static let malformedTLV = Code(rawValue: "malformedTLV")
        public static let duplicateTLV = Code(rawValue: "duplicateTLV")
        public static let missingTLV = Code(rawValue: "missingTLV")
        public static let badTLVValue = Code(rawValue: "badTLVValue")
        public static let unknownSignatureType = Code(rawValue: "unknownSignatureType")
        public static let unsupportedHashType = Code(rawValue: "unsupportedHashType")
        public static let badImageCount = Code(rawValue: "badImageCount")
        public static let unsupportedImageType = Code(rawValue: "unsupportedImageType")
        public static let badImageSize = Code(rawValue: "badImageSize")
        public static let badManifest = Code(rawValue: "badManifest")
        // Authentication
        public static let signatureInvalid = Code(rawValue: "signatureInvalid")
        public static let untrustedKey = Code(rawValue: "untrustedKey")
        public static let hashTableMismatch = Code(rawValue: "hashTableMismatch")
        public static let hashMismatch = Code(rawValue: "hashMismatch")
        public static let rollback = Code(rawValue: "rollback")
        public static let dependencyUnmet = Code(rawValue: "dependencyUnmet")
        // ELF
        public static let malformedELF = Code(rawValue: "malformedELF")
        public static let unsupportedMachine = Code(rawValue: "unsupportedMachine")
        public static let segmentOutOfBounds = Code(rawValue: "segmentOutOfBounds")
        public static let badSegmentSize = Code(rawValue: "badSegmentSize")
        public static let addressWraps = Code(rawValue: "addressWraps")
        public static let overlappingSegments = Code(rawValue: "overlappingSegments")
        public static let badEntryPoint = Code(rawValue: "badEntryPoint")
        public static let noLoadableSegment = Code(rawValue: "noLoadableSegment")
        // Resource table
        public static let malformedResourceTable = Code(rawValue: "malformedResourceTable")
        public static let resourceTableOutsideSegment = Code(rawValue: "resourceTableOutsideSegment")
        public static let multipleResourceTables = Code(rawValue: "multipleResourceTables")
        public static let resourceTableExecutable = Code(rawValue: "resourceTableExecutable")
        // Signing
        public static let badSigningInput = Code(rawValue: "badSigningInput")
    }

    public let code: Code
    public let reason: String
    /// Byte offset of the offending field: in the container file, or in image `image` when set.
    public let offset: Int?
    /// Index of the image (0-based) the error belongs to, when it belongs to one.
    public let image: Int?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, offset: Int? = nil, image: Int? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.offset = offset
        self.image = image
        self.file = file
        self.line = line
    }

    /// The same error, placed in an image of a bundle.
    func inImage(_ index: Int) -> ImageError {
        ImageError(code, reason, offset: offset, image: index, file: file, line: line)
    }

    public static func == (lhs: ImageError, rhs: ImageError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension ImageError: CustomStringConvertible {
    /// `image 1, offset 0x34: malformedELF: e_phoff + e_phnum × e_phentsize runs past the image`.
    public var description: String {
        var place: [String] = []
        if let image { place.append("image \(image)") }
        if let offset { place.append("offset 0x\(String(offset, radix: 16))") }
        let prefix = place.isEmpty ? "" : place.joined(separator: ", ") + ": "
        return "\(prefix)\(code): \(reason)"
    }
}

/// Every failure a verification found, in the order found. Verification reports all of them so
/// that a person fixing an image sees everything at once.
public struct ImageVerificationError: Error, Sendable, CustomStringConvertible {
    public let failures: [ImageError]
    public var codes: [ImageError.Code] { failures.map(\.code) }
    public var description: String { failures.map(\.description).joined(separator: "\n") }
}
