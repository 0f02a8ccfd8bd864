internal import CMbedTLS

/// An error from TEECrypto: a code to compare on, a human reason, and where it was raised.
///
/// Two errors are equal when their codes are equal, so tests and callers match on `code`
/// while people read `reason`. When mbedTLS produced the failure its error number is kept.
public struct CryptoError: Error, Hashable, Sendable {
    /// An extensible error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A key could not be parsed (bad PEM armour, bad DER, trailing bytes).
        public static let malformedKey = Code(rawValue: "malformedKey")
        /// A well-formed key of a type, size or curve this operation does not take.
        public static let unsupportedKey = Code(rawValue: "unsupportedKey")
        /// The key is encrypted and no password was given.
        public static let passwordRequired = Code(rawValue: "passwordRequired")
        /// The password given does not decrypt the key.
        public static let wrongPassword = Code(rawValue: "wrongPassword")
        /// A key whose mathematical checks failed (e.g. a point not on the curve, p·q ≠ n).
        public static let invalidKey = Code(rawValue: "invalidKey")
        /// A signature not in its exact canonical encoding (wrong length, non-minimal DER).
        public static let malformedSignature = Code(rawValue: "malformedSignature")
        /// A well-formed signature that does not verify with this key and digest.
        public static let signatureMismatch = Code(rawValue: "signatureMismatch")
        /// An AEAD tag or MAC that does not match.
        public static let authenticationFailure = Code(rawValue: "authenticationFailure")
        /// A ciphertext whose padding does not check out (nothing said about where).
        public static let decryptionFailed = Code(rawValue: "decryptionFailed")
        /// A digest whose length does not match its algorithm, or the wrong algorithm.
        public static let invalidDigest = Code(rawValue: "invalidDigest")
        /// A key, IV, nonce, tag or data length the algorithm does not accept.
        public static let invalidLength = Code(rawValue: "invalidLength")
        /// An algorithm (or an algorithm in this role) the backing libraries do not implement.
        public static let unsupportedAlgorithm = Code(rawValue: "unsupportedAlgorithm")
        /// An argument outside the values the operation accepts.
        public static let invalidArgument = Code(rawValue: "invalidArgument")
        /// An output buffer smaller than the result. `requiredSize` says how much is needed.
        public static let shortBuffer = Code(rawValue: "shortBuffer")
        /// The random generator could not be seeded or failed.
        public static let randomFailure = Code(rawValue: "randomFailure")
        /// mbedTLS reported a failure that has no more specific code here.
        public static let libraryFailure = Code(rawValue: "libraryFailure")
    }

    public let code: Code
    public let reason: String
    /// The mbedTLS error number (negative), when mbedTLS produced the failure.
    public let mbedTLSError: Int32?
    /// For `.shortBuffer`: the size that would have been enough.
    public let requiredSize: Int?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, mbedTLSError: Int32? = nil, requiredSize: Int? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.mbedTLSError = mbedTLSError
        self.requiredSize = requiredSize
        self.file = file
        self.line = line
    }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// An error for an mbedTLS return code, with mbedTLS's own text appended to the reason.
    static func mbedTLS(_ code: Code, _ what: String, _ ret: Int32, file: String = #fileID, line: Int = #line) -> CryptoError {
        CryptoError(code, "\(what): \(mbedTLSErrorText(ret))", mbedTLSError: ret, file: file, line: line)
    }
}

extension CryptoError: CustomStringConvertible {
    public var description: String { "\(code): \(reason)" }
}

/// mbedTLS's description of an error number, e.g. `RSA - The PKCS#1 verification failed (-0x4380)`.
func mbedTLSErrorText(_ ret: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 160)
    buffer.withUnsafeMutableBufferPointer { mbedtls_strerror(ret, $0.baseAddress, $0.count) }
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let hex = String(-Int(ret), radix: 16)
    return "\(text) (-0x\(hex))"
}
