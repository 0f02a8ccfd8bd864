/// TLV type numbers (spec/image-format.md §2 and §5).
public enum TLVType {
    public static let signatureType: UInt32 = 0x01
    public static let hashType: UInt32 = 0x02
    public static let imageCount: UInt32 = 0x03
    public static let imageTypes: UInt32 = 0x04
    public static let imageSizes: UInt32 = 0x05
    public static let hashTable: UInt32 = 0x10
    public static let keyInfo: UInt32 = 0x11

    /// Platform TLVs: opaque to the format, signed like every TLV.
    public static let platformRange: Range<UInt32> = 0x10000..<0x20000
    /// ST's boot address (u32) and boot security TLVs.
    public static let stBootAddress: UInt32 = 0x10001
    public static let stBootSecurity: UInt32 = 0x10002

    /// Our manifest extension, inside the platform range so OP-TEE ignores it.
    public static let manifestRange: Range<UInt32> = 0x1F000..<0x20000
    public static let imageNames: UInt32 = 0x1F001
    public static let imageVersions: UInt32 = 0x1F002
    public static let securityCounter: UInt32 = 0x1F003
    public static let dependencies: UInt32 = 0x1F004
    public static let bootAddresses: UInt32 = 0x1F005

    public static func name(_ type: UInt32) -> String {
        switch type {
        case signatureType: "SIGNTYPE"
        case hashType: "HASHTYPE"
        case imageCount: "NUM_IMG"
        case imageTypes: "IMGTYPE"
        case imageSizes: "IMGSIZE"
        case hashTable: "HASHTABLE"
        case keyInfo: "PKEYINFO"
        case stBootAddress: "BOOTADDR (ST)"
        case stBootSecurity: "BOOTSEC (ST)"
        case imageNames: "IMAGE_NAMES"
        case imageVersions: "IMAGE_VERSIONS"
        case securityCounter: "SECURITY_COUNTER"
        case dependencies: "DEPENDENCIES"
        case bootAddresses: "BOOT_ADDRESSES"
        case platformRange: "platform \(hex(type))"
        default: hex(type)
        }
    }
}

/// One TLV record as found in the file.
public struct TLVRecord: Sendable, Hashable {
    public let type: UInt32
    public let value: [UInt8]
    /// File offset of the record's type word.
    public let offset: Int
}

/// The signature algorithm of SIGNTYPE.
public enum SignatureType: UInt8, Sendable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (OP-TEE).
    case rsaPKCS1v15 = 1
    /// ECDSA P-256 with SHA-256, raw r‖s (OP-TEE).
    case ecdsaP256 = 2
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (ours).
    case rsaPSS = 3
    /// ECDSA P-384 with SHA-384, raw r‖s (ours).
    case ecdsaP384 = 4

    public var name: String {
        switch self {
        case .rsaPKCS1v15: "RSASSA-PKCS1-v1_5 SHA-256"
        case .ecdsaP256: "ECDSA P-256 SHA-256"
        case .rsaPSS: "RSASSA-PSS SHA-256 (salt 32)"
        case .ecdsaP384: "ECDSA P-384 SHA-384"
        }
    }

    /// The exact signature size for ECDSA; nil for RSA (the modulus length, known from the key).
    public var fixedSignatureLength: Int? {
        switch self {
        case .ecdsaP256: 64
        case .ecdsaP384: 96
        case .rsaPKCS1v15, .rsaPSS: nil
        }
    }

    var isRSA: Bool { self == .rsaPKCS1v15 || self == .rsaPSS }
}

/// One 64-byte hash-table entry: an ELF32 program header's eight words and the SHA-256 of the
/// segment's file bytes.
public struct HashTableEntry: Sendable, Hashable {
    public static let size = 64

    public var type: UInt32, offset: UInt32, vaddr: UInt32, paddr: UInt32
    public var filesz: UInt32, memsz: UInt32, flags: UInt32, align: UInt32
    public var hash: [UInt8]

    public init(type: UInt32, offset: UInt32, vaddr: UInt32, paddr: UInt32, filesz: UInt32, memsz: UInt32, flags: UInt32, align: UInt32, hash: [UInt8]) {
        self.type = type
        self.offset = offset
        self.vaddr = vaddr
        self.paddr = paddr
        self.filesz = filesz
        self.memsz = memsz
        self.flags = flags
        self.align = align
        self.hash = hash
    }

    /// The entry for a program header, or nil when a field does not fit in 32 bits (an ELF64
    /// image with addresses above 4 GiB cannot be described by this format).
    public init?(_ header: ProgramHeader, hash: [UInt8]) {
        let fields = [header.offset, header.vaddr, header.paddr, header.filesz, header.memsz, header.align]
        guard fields.allSatisfy({ $0 <= UInt64(UInt32.max) }) else { return nil }
        self.init(type: header.type, offset: UInt32(header.offset), vaddr: UInt32(header.vaddr), paddr: UInt32(header.paddr),
                  filesz: UInt32(header.filesz), memsz: UInt32(header.memsz), flags: header.flags, align: UInt32(header.align), hash: hash)
    }

    /// Whether the signed fields are exactly those of `header`.
    public func matches(_ header: ProgramHeader) -> Bool {
        type == header.type && UInt64(offset) == header.offset && UInt64(vaddr) == header.vaddr && UInt64(paddr) == header.paddr
            && UInt64(filesz) == header.filesz && UInt64(memsz) == header.memsz && flags == header.flags && UInt64(align) == header.align
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        for word in [type, offset, vaddr, paddr, filesz, memsz, flags, align] { out.appendLE32(word) }
        return out + hash
    }
}
