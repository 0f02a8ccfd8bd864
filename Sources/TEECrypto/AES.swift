internal import CMbedTLS

/// Which way a cipher runs.
public enum CipherDirection: Sendable, Hashable {
    case encrypt, decrypt
}

/// AES in ECB, CBC (both without padding) or CTR mode, streaming: `update` as often as needed,
/// then `finalize`.
///
/// ECB and CBC work on whole 16-byte blocks; `update` keeps a partial block until more data arrives,
/// and `finalize` refuses leftover bytes (GP's AES_CBC_NOPAD). CTR takes any length; the
/// 16-byte IV is the initial counter block, incremented as a 128-bit big-endian integer.
public final class AESCipher {
    public enum Mode: Sendable, Hashable {
        case ecb, ctr, cbc
    }

    public let mode: Mode
    public let direction: CipherDirection
    // SAFETY: owned; the key schedule is zeroized by mbedtls_aes_free in deinit.
    private let ctx: UnsafeMutablePointer<mbedtls_aes_context>
    private var iv: [UInt8]
    private var streamBlock = [UInt8](repeating: 0, count: 16)
    private var counterOffset = 0
    private var pending: [UInt8] = []
    private var finished = false

    /// Key of 16, 24 or 32 bytes; IV of 16 bytes (none for ECB).
    public init(mode: Mode, direction: CipherDirection, key: SecureBytes, iv: [UInt8]) throws {
        guard [16, 24, 32].contains(key.count) else {
            throw CryptoError(.invalidLength, "an AES key is 16, 24 or 32 bytes, not \(key.count)")
        }
        guard mode == .ecb ? iv.isEmpty : iv.count == 16 else {
            throw CryptoError(.invalidLength, mode == .ecb ? "AES-ECB takes no IV" : "an AES-\(mode) IV is 16 bytes, not \(iv.count)")
        }
        self.mode = mode
        self.direction = direction
        self.iv = iv
        ctx = .allocate(capacity: 1)
        mbedtls_aes_init(ctx)
        // CTR always runs the block cipher forwards; ECB and CBC decryption need the inverse schedule.
        let useDecryptSchedule = mode != .ctr && direction == .decrypt
        let ret = key.withUnsafeBytes { k in
            useDecryptSchedule
                ? mbedtls_aes_setkey_dec(ctx, bytePointer(k), UInt32(k.count * 8))
                : mbedtls_aes_setkey_enc(ctx, bytePointer(k), UInt32(k.count * 8))
        }
        guard ret == 0 else {
            mbedtls_aes_free(ctx)
            ctx.deallocate()
            throw CryptoError.mbedTLS(.invalidLength, "AES key schedule", ret)
        }
    }

    deinit {
        mbedtls_aes_free(ctx)
        ctx.deallocate()
        for i in streamBlock.indices { streamBlock[i] = 0 }
        for i in pending.indices { pending[i] = 0 }
    }

    /// Processes more data and returns the output available so far.
    public func update(_ data: some Collection<UInt8>) throws -> [UInt8] {
        guard !finished else { throw CryptoError(.invalidArgument, "cipher already finalized") }
        switch mode {
        case .ctr:
            return try ctr(Array(data))
        case .cbc, .ecb:
            pending.append(contentsOf: data)
            let whole = pending.count - pending.count % 16
            guard whole > 0 else { return [] }
            let blocks = Array(pending[..<whole])
            pending.removeFirst(whole)
            return try mode == .cbc ? cbc(blocks) : ecb(blocks)
        }
    }

    /// Processes the last data. For ECB and CBC the total length must be a multiple of 16.
    public func finalize(_ data: some Collection<UInt8> = [UInt8]()) throws -> [UInt8] {
        let out = try update(data)
        finished = true
        if mode != .ctr && !pending.isEmpty {
            throw CryptoError(.invalidLength, "AES-\(mode == .cbc ? "CBC" : "ECB") without padding needs a multiple of 16 bytes; \(pending.count) left over")
        }
        return out
    }

    private func ctr(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        guard !input.isEmpty else { return output }
        let ret = mbedtls_aes_crypt_ctr(ctx, input.count, &counterOffset, &iv, &streamBlock, input, &output)
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "AES-CTR", ret) }
        return output
    }

    private func cbc(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        let mbedMode = direction == .encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT
        let ret = mbedtls_aes_crypt_cbc(ctx, mbedMode, input.count, &iv, input, &output)
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "AES-CBC", ret) }
        return output
    }

    private func ecb(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        let mbedMode = direction == .encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT
        try input.withUnsafeBufferPointer { inp in
            try output.withUnsafeMutableBufferPointer { out in
                for block in stride(from: 0, to: input.count, by: 16) {
                    let ret = mbedtls_aes_crypt_ecb(ctx, mbedMode, inp.baseAddress! + block, out.baseAddress! + block)
                    guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "AES-ECB", ret) }
                }
            }
        }
        return output
    }

    /// One-shot convenience.
    public static func process(mode: Mode, direction: CipherDirection, key: SecureBytes, iv: [UInt8], data: some Collection<UInt8>) throws -> [UInt8] {
        try AESCipher(mode: mode, direction: direction, key: key, iv: iv).finalize(data)
    }
}

/// AES-GCM authenticated encryption (NIST SP 800-38D).
///
/// Tags are 4 to 16 bytes (GP allows 96–128 bits and shorter for special uses; the length is
/// fixed when the operation is set up). On decryption the expected tag is recomputed and
/// compared in constant time at exactly that length; the one-shot `open` releases no
/// plaintext unless the tag matches.
public final class AESGCM {
    public let direction: CipherDirection
    public let tagLength: Int
    // SAFETY: owned; zeroized by mbedtls_gcm_free in deinit.
    private let ctx: UnsafeMutablePointer<mbedtls_gcm_context>
    private var pending: [UInt8] = []
    private var finished = false

    /// Starts an operation. The AAD is given up front (mbedTLS 2.28 takes it at start);
    /// GP's incremental AAD is collected by the caller before the first `update`.
    public init(direction: CipherDirection, key: SecureBytes, iv: [UInt8], aad: some Collection<UInt8> = [UInt8](), tagLength: Int = 16) throws {
        guard [16, 24, 32].contains(key.count) else {
            throw CryptoError(.invalidLength, "an AES key is 16, 24 or 32 bytes, not \(key.count)")
        }
        guard !iv.isEmpty else { throw CryptoError(.invalidLength, "AES-GCM needs a non-empty IV") }
        guard (4...16).contains(tagLength) else {
            throw CryptoError(.invalidLength, "an AES-GCM tag is 4 to 16 bytes, not \(tagLength)")
        }
        self.direction = direction
        self.tagLength = tagLength
        ctx = .allocate(capacity: 1)
        mbedtls_gcm_init(ctx)
        var ret = key.withUnsafeBytes { mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_AES, bytePointer($0), UInt32($0.count * 8)) }
        if ret == 0 {
            let aadBytes = Array(aad)
            ret = mbedtls_gcm_starts(ctx, direction == .encrypt ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT,
                                     iv, iv.count, aadBytes, aadBytes.count)
        }
        guard ret == 0 else {
            mbedtls_gcm_free(ctx)
            ctx.deallocate()
            throw CryptoError.mbedTLS(.invalidArgument, "AES-GCM set-up", ret)
        }
    }

    deinit {
        mbedtls_gcm_free(ctx)
        ctx.deallocate()
        for i in pending.indices { pending[i] = 0 }
    }

    /// Processes more data; returns the output of every complete 16-byte block so far.
    /// When decrypting, this output is NOT yet authenticated (GP's AEUpdate semantics).
    public func update(_ data: some Collection<UInt8>) throws -> [UInt8] {
        guard !finished else { throw CryptoError(.invalidArgument, "AES-GCM already finalized") }
        pending.append(contentsOf: data)
        let whole = pending.count - pending.count % 16
        guard whole > 0 else { return [] }
        let blocks = Array(pending[..<whole])
        pending.removeFirst(whole)
        return try crypt(blocks)
    }

    private func crypt(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        guard !input.isEmpty else { return output }
        let ret = mbedtls_gcm_update(ctx, input.count, input, &output)
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "AES-GCM update", ret) }
        return output
    }

    private func finishTag(_ last: some Collection<UInt8>) throws -> (output: [UInt8], tag: [UInt8]) {
        var output = try update(last)
        output += try crypt(pending)
        pending = []
        finished = true
        var tag = [UInt8](repeating: 0, count: tagLength)
        let ret = mbedtls_gcm_finish(ctx, &tag, tagLength)
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "AES-GCM finish", ret) }
        return (output, tag)
    }

    /// Encryption: the last ciphertext and the tag.
    public func finalizeEncryption(_ data: some Collection<UInt8> = [UInt8]()) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard direction == .encrypt else { throw CryptoError(.invalidArgument, "this AES-GCM operation decrypts") }
        let (output, tag) = try finishTag(data)
        return (output, tag)
    }

    /// Decryption: the last plaintext, released only if `tag` matches (constant-time,
    /// exactly `tagLength` bytes). Throws `.authenticationFailure` otherwise.
    public func finalizeDecryption(_ data: some Collection<UInt8> = [UInt8](), tag: some Collection<UInt8>) throws -> [UInt8] {
        guard direction == .decrypt else { throw CryptoError(.invalidArgument, "this AES-GCM operation encrypts") }
        guard tag.count == tagLength else {
            throw CryptoError(.authenticationFailure, "AES-GCM tag is \(tag.count) bytes; this operation takes \(tagLength)")
        }
        var (output, expected) = try finishTag(data)
        guard constantTimeEquals(expected, tag) else {
            for i in output.indices { output[i] = 0 }
            throw CryptoError(.authenticationFailure, "AES-GCM tag mismatch")
        }
        for i in expected.indices { expected[i] = 0 }
        return output
    }

    /// One-shot encryption.
    public static func seal(_ plaintext: some Collection<UInt8>, key: SecureBytes, iv: [UInt8], aad: some Collection<UInt8> = [UInt8](), tagLength: Int = 16) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        try AESGCM(direction: .encrypt, key: key, iv: iv, aad: aad, tagLength: tagLength).finalizeEncryption(plaintext)
    }

    /// One-shot decryption; no plaintext unless the tag matches.
    public static func open(_ ciphertext: some Collection<UInt8>, key: SecureBytes, iv: [UInt8], aad: some Collection<UInt8> = [UInt8](), tag: some Collection<UInt8>) throws -> [UInt8] {
        try AESGCM(direction: .decrypt, key: key, iv: iv, aad: aad, tagLength: tag.count).finalizeDecryption(ciphertext, tag: tag)
    }
}
