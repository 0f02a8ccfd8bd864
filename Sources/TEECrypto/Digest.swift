internal import CMbedTLS

/// The SHA-2 functions TEECrypto offers.
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable {
    case sha256 = "SHA-256"
    case sha384 = "SHA-384"
    case sha512 = "SHA-512"

    /// Output length in bytes.
    public var byteCount: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    var mdType: mbedtls_md_type_t {
        switch self {
        case .sha256: MBEDTLS_MD_SHA256
        case .sha384: MBEDTLS_MD_SHA384
        case .sha512: MBEDTLS_MD_SHA512
        }
    }

    var mdInfo: OpaquePointer {
        // The three SHA-2 entries are compiled into Debian's libmbedcrypto (checked by tests).
        mbedtls_md_info_from_type(mdType)
    }
}

/// A digest value that knows its algorithm, so a SHA-384 digest cannot be handed to an
/// operation that expects SHA-256 and a truncated digest cannot exist.
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    public let algorithm: DigestAlgorithm
    public let bytes: [UInt8]

    /// Wraps a digest computed elsewhere. Throws `.invalidDigest` unless the length matches.
    public init(algorithm: DigestAlgorithm, bytes: [UInt8]) throws {
        guard bytes.count == algorithm.byteCount else {
            throw CryptoError(.invalidDigest, "a \(algorithm.rawValue) digest is \(algorithm.byteCount) bytes, not \(bytes.count)")
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    init(unchecked algorithm: DigestAlgorithm, _ bytes: [UInt8]) {
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Compares in constant time.
    public static func == (lhs: Digest, rhs: Digest) -> Bool {
        lhs.algorithm == rhs.algorithm && constantTimeEquals(lhs.bytes, rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(algorithm)
        hasher.combine(bytes)
    }

    public var description: String { "\(algorithm.rawValue):\(hexString(bytes))" }

    /// One-shot hash of a buffer.
    public static func hash(_ algorithm: DigestAlgorithm, _ data: some Collection<UInt8>) -> Digest {
        withContiguousBytes(data) { hash(algorithm, buffer: $0) }
    }

    /// One-shot hash of raw memory (the hot path for large images: no copy).
    public static func hash(_ algorithm: DigestAlgorithm, buffer: UnsafeRawBufferPointer) -> Digest {
        var out = [UInt8](repeating: 0, count: algorithm.byteCount)
        let ret: Int32 = out.withUnsafeMutableBufferPointer { o in
            switch algorithm {
            case .sha256: mbedtls_sha256_ret(bytePointer(buffer), buffer.count, o.baseAddress, 0)
            case .sha384: mbedtls_sha512_ret(bytePointer(buffer), buffer.count, o.baseAddress, 1)
            case .sha512: mbedtls_sha512_ret(bytePointer(buffer), buffer.count, o.baseAddress, 0)
            }
        }
        // The SHA-2 one-shot functions fail only on NULL arguments, which cannot happen here.
        precondition(ret == 0, "mbedtls SHA-2 failed: \(mbedTLSErrorText(ret))")
        return Digest(unchecked: algorithm, out)
    }
}

/// A streaming SHA-2 computation: update as often as needed, finalize exactly once.
///
/// Non-copyable, so a half-fed state cannot be duplicated by accident, and `finalize()`
/// consumes it, so it cannot be used after finalization.
public struct DigestHasher: ~Copyable {
    public let algorithm: DigestAlgorithm
    // SAFETY: owned; allocated and initialized in init, freed (mbedtls zeroizes it) in deinit.
    private let sha256: UnsafeMutablePointer<mbedtls_sha256_context>?
    private let sha512: UnsafeMutablePointer<mbedtls_sha512_context>?

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256:
            let ctx = UnsafeMutablePointer<mbedtls_sha256_context>.allocate(capacity: 1)
            mbedtls_sha256_init(ctx)
            precondition(mbedtls_sha256_starts_ret(ctx, 0) == 0)
            sha256 = ctx
            sha512 = nil
        case .sha384, .sha512:
            let ctx = UnsafeMutablePointer<mbedtls_sha512_context>.allocate(capacity: 1)
            mbedtls_sha512_init(ctx)
            precondition(mbedtls_sha512_starts_ret(ctx, algorithm == .sha384 ? 1 : 0) == 0)
            sha256 = nil
            sha512 = ctx
        }
    }

    public mutating func update(_ data: some Collection<UInt8>) {
        withContiguousBytes(data) { update(buffer: $0) }
    }

    public mutating func update(buffer: UnsafeRawBufferPointer) {
        let ret: Int32
        if let sha256 {
            ret = mbedtls_sha256_update_ret(sha256, bytePointer(buffer), buffer.count)
        } else {
            ret = mbedtls_sha512_update_ret(sha512!, bytePointer(buffer), buffer.count)
        }
        precondition(ret == 0, "mbedtls SHA-2 update failed: \(mbedTLSErrorText(ret))")
    }

    public consuming func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: algorithm.byteCount)
        let ret: Int32 = out.withUnsafeMutableBufferPointer { o in
            if let sha256 { return mbedtls_sha256_finish_ret(sha256, o.baseAddress) }
            // SHA-384 writes 48 of the 64 bytes mbedtls_sha512_finish_ret may touch: use a full buffer.
            var full = [UInt8](repeating: 0, count: 64)
            let r = full.withUnsafeMutableBufferPointer { mbedtls_sha512_finish_ret(sha512!, $0.baseAddress) }
            o.baseAddress!.update(from: full, count: o.count)
            return r
        }
        precondition(ret == 0, "mbedtls SHA-2 finish failed: \(mbedTLSErrorText(ret))")
        return Digest(unchecked: algorithm, out)
    }

    deinit {
        if let sha256 {
            mbedtls_sha256_free(sha256)
            sha256.deallocate()
        }
        if let sha512 {
            mbedtls_sha512_free(sha512)
            sha512.deallocate()
        }
    }
}
