internal import CMbedTLS
internal import COpenSSL

/// The MACs GP names: HMAC over each digest, CMAC over AES or 3DES, and CBC-MAC over AES, DES or
/// 3DES (with or without PKCS#5 padding).
public enum MACAlgorithm: Sendable, Hashable {
    case hmac(DigestAlgorithm)
    case cmac(BlockCipherAlgorithm)
    case cbcMAC(BlockCipherAlgorithm, pkcs5: Bool)

    /// Bytes in a tag.
    public var tagLength: Int {
        switch self {
        case .hmac(let d): d.byteCount
        case .cmac(let c), .cbcMAC(let c, _): c.blockSize
        }
    }

    /// The libraries that implement it. OpenSSL serves HMAC and CMAC (its contexts can be
    /// duplicated mid-computation, as TEE_CopyOperation needs; mbedTLS's cannot); CBC-MAC is
    /// chained here over one library block call, so it copies by value.
    public var backends: [CryptoBackend] {
        switch self {
        case .hmac(let d): d.backends
        case .cmac(let c): c == .des ? [] : [.mbedTLS, .openSSL]
        case .cbcMAC: [.mbedTLS]
        }
    }
}

/// Block ciphers for GP's DES/3DES/AES algorithms. 3DES takes a 16-byte (two-key) or 24-byte
/// (three-key) key; DES 8 bytes. Parity bits are ignored, as GP and OP-TEE ignore them.
public enum BlockCipherAlgorithm: String, Sendable, Hashable {
    case aes = "AES"
    case des = "DES"
    case des3 = "3DES"

    public var blockSize: Int { self == .aes ? 16 : 8 }

    /// Whether `count` key bytes fit.
    public func accepts(keyLength count: Int) -> Bool {
        switch self {
        case .aes: [16, 24, 32].contains(count)
        case .des: count == 8
        case .des3: count == 16 || count == 24
        }
    }

    func mbedTLSECB(keyLength: Int) -> mbedtls_cipher_type_t {
        switch self {
        case .aes: keyLength == 16 ? MBEDTLS_CIPHER_AES_128_ECB : keyLength == 24 ? MBEDTLS_CIPHER_AES_192_ECB : MBEDTLS_CIPHER_AES_256_ECB
        case .des: MBEDTLS_CIPHER_DES_ECB
        case .des3: keyLength == 16 ? MBEDTLS_CIPHER_DES_EDE_ECB : MBEDTLS_CIPHER_DES_EDE3_ECB
        }
    }

    /// OpenSSL's CBC cipher name (CMAC is defined over it).
    func openSSLCBC(keyLength: Int) -> String {
        switch self {
        case .aes: "AES-\(keyLength * 8)-CBC"
        case .des: "DES-CBC"
        case .des3: keyLength == 16 ? "DES-EDE-CBC" : "DES-EDE3-CBC"
        }
    }
}

/// One block cipher key, encrypting or decrypting single blocks (ECB) through mbedTLS.
public final class BlockCipher {
    public let algorithm: BlockCipherAlgorithm
    public let direction: CipherDirection
    private let key: SecureBytes
    // SAFETY: owned; set up in init, freed (key schedule zeroized) in deinit.
    private let ctx: UnsafeMutablePointer<mbedtls_cipher_context_t>

    public init(_ algorithm: BlockCipherAlgorithm, key: SecureBytes, direction: CipherDirection) throws {
        guard algorithm.accepts(keyLength: key.count) else {
            throw CryptoError(.invalidLength, "a \(algorithm.rawValue) key cannot be \(key.count) bytes")
        }
        self.algorithm = algorithm
        self.direction = direction
        self.key = key
        ctx = .allocate(capacity: 1)
        mbedtls_cipher_init(ctx)
        var ret = mbedtls_cipher_setup(ctx, mbedtls_cipher_info_from_type(algorithm.mbedTLSECB(keyLength: key.count)))
        if ret == 0 {
            ret = key.withUnsafeBytes { k in
                mbedtls_cipher_setkey(ctx, bytePointer(k), Int32(k.count * 8), direction == .encrypt ? MBEDTLS_ENCRYPT : MBEDTLS_DECRYPT)
            }
        }
        guard ret == 0 else {
            mbedtls_cipher_free(ctx)
            ctx.deallocate()
            throw CryptoError.mbedTLS(.invalidLength, "\(algorithm.rawValue) key schedule", ret)
        }
    }

    deinit {
        mbedtls_cipher_free(ctx)
        ctx.deallocate()
    }

    /// A cipher with the same key and direction (for a copied computation).
    public func copy() -> BlockCipher {
        // The key was accepted once; the same key is accepted again.
        try! BlockCipher(algorithm, key: key, direction: direction)
    }

    /// Runs whole blocks through the cipher (`blocks.count` a multiple of the block size).
    public func process(_ blocks: [UInt8]) -> [UInt8] {
        let n = algorithm.blockSize
        precondition(blocks.count % n == 0, "whole blocks only")
        var out = [UInt8](repeating: 0, count: blocks.count)
        blocks.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for at in stride(from: 0, to: blocks.count, by: n) {
                    var produced = 0
                    // One ECB block: fails only on a context mbedTLS did not set up (init checked).
                    let ret = mbedtls_cipher_update(ctx, input.baseAddress! + at, n, output.baseAddress! + at, &produced)
                    precondition(ret == 0 && produced == n, "mbedtls_cipher_update: \(mbedTLSErrorText(ret))")
                }
            }
        }
        return out
    }
}

/// A running MAC: `update` as often as needed, `copy` at any point, `finalize` once.
public final class MACComputation {
    public let algorithm: MACAlgorithm
    public let backend: CryptoBackend
    private enum Engine {
        case openSSL(OpaquePointer)
        case mbedTLSHMAC(UnsafeMutablePointer<mbedtls_md_context_t>, SecureBytes)
        case mbedTLSCMAC(UnsafeMutablePointer<mbedtls_cipher_context_t>)
        case cbc(CBCMACState)
    }
    private var engine: Engine

    /// `backend` nil: the serving one (OpenSSL for HMAC and CMAC). CBC-MAC's `iv` is the initial
    /// chaining block (GP's TEE_MACInit IV; zeros when empty).
    public init(_ algorithm: MACAlgorithm, key: SecureBytes, iv: [UInt8] = [], backend: CryptoBackend? = nil) throws {
        self.algorithm = algorithm
        switch algorithm {
        case .hmac(let digest):
            let chosen = backend ?? .openSSL
            self.backend = chosen
            guard digest.backends.contains(chosen) else { throw CryptoError(.unsupportedAlgorithm, "\(chosen.rawValue) has no HMAC-\(digest.rawValue)") }
            if chosen == .openSSL {
                engine = .openSSL(try Self.openSSLMAC("HMAC", parameter: "digest", value: digest.openSSLName, key: key))
            } else {
                let ctx = UnsafeMutablePointer<mbedtls_md_context_t>.allocate(capacity: 1)
                mbedtls_md_init(ctx)
                var ret = mbedtls_md_setup(ctx, digest.mdInfo, 1)
                if ret == 0 { ret = key.withUnsafeBytes { mbedtls_md_hmac_starts(ctx, bytePointer($0), $0.count) } }
                guard ret == 0 else {
                    mbedtls_md_free(ctx); ctx.deallocate()
                    throw CryptoError.mbedTLS(.libraryFailure, "HMAC set-up", ret)
                }
                engine = .mbedTLSHMAC(ctx, key)
            }
        case .cmac(let cipher):
            guard cipher != .des else { throw CryptoError(.unsupportedAlgorithm, "CMAC over single DES is not a GP algorithm") }
            guard cipher.accepts(keyLength: key.count) else { throw CryptoError(.invalidLength, "a \(cipher.rawValue) key cannot be \(key.count) bytes") }
            let chosen = backend ?? .openSSL
            self.backend = chosen
            if chosen == .openSSL {
                engine = .openSSL(try Self.openSSLMAC("CMAC", parameter: "cipher", value: cipher.openSSLCBC(keyLength: key.count), key: key))
            } else {
                // mbedTLS's CMAC takes three-key 3DES only: a two-key key is K1‖K2‖K1, the same cipher.
                let macKey = cipher == .des3 && key.count == 16 ? SecureBytes(key.unsafeBytes + key.unsafeBytes.prefix(8)) : key
                let ctx = UnsafeMutablePointer<mbedtls_cipher_context_t>.allocate(capacity: 1)
                mbedtls_cipher_init(ctx)
                var ret = mbedtls_cipher_setup(ctx, mbedtls_cipher_info_from_type(cipher.mbedTLSECB(keyLength: macKey.count)))
                if ret == 0 { ret = macKey.withUnsafeBytes { mbedtls_cipher_cmac_starts(ctx, bytePointer($0), $0.count * 8) } }
                guard ret == 0 else {
                    mbedtls_cipher_free(ctx); ctx.deallocate()
                    throw CryptoError.mbedTLS(.libraryFailure, "CMAC set-up", ret)
                }
                engine = .mbedTLSCMAC(ctx)
            }
        case .cbcMAC(let cipher, let pkcs5):
            guard backend == nil || backend == .mbedTLS else { throw CryptoError(.unsupportedAlgorithm, "CBC-MAC runs on mbedTLS's block cipher") }
            self.backend = .mbedTLS
            let chain = iv.isEmpty ? [UInt8](repeating: 0, count: cipher.blockSize) : iv
            guard chain.count == cipher.blockSize else { throw CryptoError(.invalidLength, "a \(cipher.rawValue) CBC-MAC IV is \(cipher.blockSize) bytes, not \(iv.count)") }
            engine = .cbc(CBCMACState(cipher: try BlockCipher(cipher, key: key, direction: .encrypt), chain: chain, pkcs5: pkcs5))
        }
    }

    private init(algorithm: MACAlgorithm, backend: CryptoBackend, engine: Engine) {
        self.algorithm = algorithm
        self.backend = backend
        self.engine = engine
    }

    private static func openSSLMAC(_ name: String, parameter: String, value: String, key: SecureBytes) throws -> OpaquePointer {
        guard let mac = EVP_MAC_fetch(nil, name, nil) else { throw CryptoError(.unsupportedAlgorithm, "OpenSSL has no \(name)") }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { throw CryptoError(.libraryFailure, "EVP_MAC_CTX_new: out of memory") }
        let ok = parameter.withCString { p in
            value.withCString { v in
                var params = [OSSL_PARAM_construct_utf8_string(p, UnsafeMutablePointer(mutating: v), 0), OSSL_PARAM_construct_end()]
                return key.withUnsafeBytes { k in EVP_MAC_init(ctx, bytePointer(k), k.count, &params) }
            }
        }
        guard ok == 1 else {
            EVP_MAC_CTX_free(ctx)
            throw CryptoError(.invalidArgument, "OpenSSL \(name) over \(value) refused the key (\(key.count) bytes)")
        }
        return ctx
    }

    deinit {
        switch engine {
        case .openSSL(let ctx): EVP_MAC_CTX_free(ctx)
        case .mbedTLSHMAC(let ctx, _): mbedtls_md_free(ctx); ctx.deallocate()
        case .mbedTLSCMAC(let ctx): mbedtls_cipher_free(ctx); ctx.deallocate()
        case .cbc: break
        }
    }

    public func update(_ data: [UInt8]) {
        guard !data.isEmpty else { return }
        switch engine {
        case .openSSL(let ctx):
            precondition(data.withUnsafeBytes { EVP_MAC_update(ctx, bytePointer($0), $0.count) } == 1, "EVP_MAC_update failed")
        case .mbedTLSHMAC(let ctx, _):
            precondition(data.withUnsafeBytes { mbedtls_md_hmac_update(ctx, bytePointer($0), $0.count) } == 0, "mbedtls_md_hmac_update failed")
        case .mbedTLSCMAC(let ctx):
            precondition(data.withUnsafeBytes { mbedtls_cipher_cmac_update(ctx, bytePointer($0), $0.count) } == 0, "mbedtls_cipher_cmac_update failed")
        case .cbc(let state):
            state.update(data)
        }
    }

    /// An independent computation in the same state. `.unsupportedAlgorithm` for mbedTLS's CMAC,
    /// whose context has no copy (the serving backend, OpenSSL, has one).
    public func copy() throws -> MACComputation {
        switch engine {
        case .openSSL(let ctx):
            guard let dup = EVP_MAC_CTX_dup(ctx) else { throw CryptoError(.libraryFailure, "EVP_MAC_CTX_dup: out of memory") }
            return MACComputation(algorithm: algorithm, backend: backend, engine: .openSSL(dup))
        case .mbedTLSHMAC(let ctx, let key):
            // mbedtls_md_clone copies the inner hash, not the HMAC pads: start a twin with the
            // same key (the pads), then take the inner state over.
            let twin = UnsafeMutablePointer<mbedtls_md_context_t>.allocate(capacity: 1)
            mbedtls_md_init(twin)
            var ret = mbedtls_md_setup(twin, ctx.pointee.md_info, 1)
            if ret == 0 { ret = key.withUnsafeBytes { mbedtls_md_hmac_starts(twin, bytePointer($0), $0.count) } }
            if ret == 0 { ret = mbedtls_md_clone(twin, ctx) }
            guard ret == 0 else { mbedtls_md_free(twin); twin.deallocate(); throw CryptoError.mbedTLS(.libraryFailure, "HMAC copy", ret) }
            return MACComputation(algorithm: algorithm, backend: backend, engine: .mbedTLSHMAC(twin, key))
        case .mbedTLSCMAC:
            throw CryptoError(.unsupportedAlgorithm, "mbedTLS's CMAC context cannot be copied")
        case .cbc(let state):
            return MACComputation(algorithm: algorithm, backend: backend, engine: .cbc(state.copy()))
        }
    }

    /// Bytes fed in that are not yet a whole block (CBC-MAC without padding must end on a block).
    public var pendingBytes: Int {
        if case .cbc(let state) = engine { return state.pending.count }
        return 0
    }

    /// The tag. `.invalidLength` for an unpadded CBC-MAC over a partial block.
    public func finalize() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        switch engine {
        case .openSSL(let ctx):
            var length = 0
            precondition(EVP_MAC_final(ctx, &out, &length, out.count) == 1, "EVP_MAC_final failed")
            return Array(out.prefix(length))
        case .mbedTLSHMAC(let ctx, _):
            precondition(mbedtls_md_hmac_finish(ctx, &out) == 0, "mbedtls_md_hmac_finish failed")
            return Array(out.prefix(algorithm.tagLength))
        case .mbedTLSCMAC(let ctx):
            precondition(mbedtls_cipher_cmac_finish(ctx, &out) == 0, "mbedtls_cipher_cmac_finish failed")
            return Array(out.prefix(algorithm.tagLength))
        case .cbc(let state):
            return try state.finish()
        }
    }
}

/// CBC-MAC (ISO 9797-1 algorithm 1, GP's CBC_MAC_NOPAD / _PKCS5): the last block of the CBC
/// encryption of the message, chained here one library block call at a time.
final class CBCMACState {
    let cipher: BlockCipher
    private(set) var chain: [UInt8]
    private(set) var pending: [UInt8] = []
    let pkcs5: Bool

    init(cipher: BlockCipher, chain: [UInt8], pkcs5: Bool) {
        self.cipher = cipher
        self.chain = chain
        self.pkcs5 = pkcs5
    }

    func update(_ data: [UInt8]) {
        let n = cipher.algorithm.blockSize
        pending += data
        // Keep the last block back: PKCS#5 pads after it, and it must not be chained twice.
        while pending.count > n || (!pkcs5 && pending.count == n) {
            let block = zip(pending.prefix(n), chain).map { $0 ^ $1 }
            chain = cipher.process(block)
            pending.removeFirst(n)
        }
    }

    func finish() throws -> [UInt8] {
        let n = cipher.algorithm.blockSize
        if pkcs5 {
            let pad = n - pending.count % n
            update([UInt8](repeating: UInt8(pad), count: pad))
            // update keeps a full last block back when padding; chain it now.
            if pending.count == n {
                chain = cipher.process(zip(pending, chain).map { $0 ^ $1 })
                pending = []
            }
        }
        guard pending.isEmpty else {
            throw CryptoError(.invalidLength, "CBC-MAC without padding needs whole \(n)-byte blocks; \(pending.count) bytes left over")
        }
        return chain
    }

    func copy() -> CBCMACState {
        let c = CBCMACState(cipher: cipher.copy(), chain: chain, pkcs5: pkcs5)
        c.pending = pending
        return c
    }
}

/// A streaming cipher over AES, DES or 3DES in ECB, CBC (both without padding) or CTR mode, or
/// AES in CTS (CBC with ciphertext stealing, CS3 as GP and RFC 3962 define it) or XTS (IEEE 1619,
/// two keys, the IV the tweak), chained here over one library block call at a time so that a
/// computation can be copied mid-stream (TEE_CopyOperation). ECB and CBC release whole blocks
/// and keep a partial one until more data comes; CTS and XTS keep the last 17 to 32 bytes (the
/// two blocks stealing may rearrange), as OP-TEE does; CTR (AES only, the 16-byte IV the
/// initial counter block, incremented as a 128-bit big-endian integer) releases every byte.
public final class CipherComputation {
    public enum Mode: Sendable, Hashable { case ecb, cbc, ctr, cts, xts }

    public let mode: Mode
    public let direction: CipherDirection
    private let block: BlockCipher
    /// XTS: the data key's cipher in the other direction is not needed; the tweak key's is.
    private let tweakBlock: BlockCipher?
    private var chain: [UInt8]
    private var pending: [UInt8] = []
    /// CTR: the key stream block in use and how much of it is spent.
    private var stream: [UInt8] = []
    private var streamUsed = 0

    /// `iv`: none for ECB, one block for the other modes (XTS: the tweak). `key2`: XTS's tweak
    /// key, the same size as `key`; no other mode takes one.
    public init(_ cipher: BlockCipherAlgorithm, mode: Mode, direction: CipherDirection, key: SecureBytes, iv: [UInt8], key2: SecureBytes? = nil) throws {
        if [.ctr, .cts, .xts].contains(mode), cipher != .aes { throw CryptoError(.unsupportedAlgorithm, "\(mode) mode is defined here for AES only") }
        guard (mode == .xts) == (key2 != nil) else { throw CryptoError(.invalidArgument, mode == .xts ? "XTS takes two keys" : "only XTS takes a second key") }
        if let key2, key2.count != key.count { throw CryptoError(.invalidLength, "XTS keys of \(key.count) and \(key2.count) bytes") }
        let n = cipher.blockSize
        guard mode == .ecb ? iv.isEmpty : iv.count == n else {
            throw CryptoError(.invalidLength, mode == .ecb ? "ECB takes no IV" : "a \(cipher.rawValue) \(mode) IV is \(n) bytes, not \(iv.count)")
        }
        self.mode = mode
        self.direction = direction
        // CTR always runs the block cipher forwards.
        block = try BlockCipher(cipher, key: key, direction: mode == .ctr ? .encrypt : direction)
        if let key2 {
            let tweak = try BlockCipher(cipher, key: key2, direction: .encrypt)
            tweakBlock = tweak
            chain = tweak.process(iv)   // T = E_K2(tweak)
        } else {
            tweakBlock = nil
            chain = iv
        }
    }

    private init(copying other: CipherComputation) {
        mode = other.mode
        direction = other.direction
        block = other.block.copy()
        tweakBlock = other.tweakBlock?.copy()
        chain = other.chain
        pending = other.pending
        stream = other.stream
        streamUsed = other.streamUsed
    }

    deinit {
        for i in pending.indices { pending[i] = 0 }
        for i in stream.indices { stream[i] = 0 }
    }

    public func copy() -> CipherComputation { CipherComputation(copying: self) }

    /// Bytes held back until a block is complete (ECB, CBC).
    public var pendingBytes: Int { pending.count }

    /// What `update` with `count` more bytes would release.
    public func outputLength(adding count: Int) -> Int {
        let n = block.algorithm.blockSize, total = pending.count + count
        switch mode {
        case .ctr: return count
        case .ecb, .cbc: return total / n * n
        case .cts, .xts: return total > 2 * n ? (total - 2 * n + n - 1) / n * n : 0
        }
    }

    public func update(_ data: [UInt8]) -> [UInt8] {
        switch mode {
        case .ctr:
            return ctr(data)
        case .ecb, .cbc:
            let n = block.algorithm.blockSize
            pending += data
            let whole = pending.count / n * n
            guard whole > 0 else { return [] }
            let blocks = Array(pending[..<whole])
            pending.removeFirst(whole)
            return mode == .ecb ? block.process(blocks) : cbc(blocks)
        case .cts, .xts:
            let release = outputLength(adding: data.count)
            pending += data
            guard release > 0 else { return [] }
            let blocks = Array(pending[..<release])
            pending.removeFirst(release)
            return mode == .cts ? cbc(blocks) : xts(blocks)
        }
    }

    /// The last data; `.invalidLength` when ECB or CBC data does not end on a block, or CTS or
    /// XTS data is shorter than one block.
    public func finalize(_ data: [UInt8]) throws -> [UInt8] {
        let out = update(data)
        if mode == .cts || mode == .xts {
            let n = block.algorithm.blockSize
            guard pending.count >= n || (out.isEmpty == false && pending.isEmpty) else {
                throw CryptoError(.invalidLength, "AES-\(mode) needs at least one block; \(pending.count) bytes")
            }
            defer { pending = [] }
            return out + (mode == .cts ? ctsFinal(pending) : xtsFinal(pending))
        }
        guard pending.isEmpty else {
            throw CryptoError(.invalidLength, "\(block.algorithm.rawValue)-\(mode) without padding needs whole blocks; \(pending.count) bytes left over")
        }
        return out
    }

    private func cbc(_ blocks: [UInt8]) -> [UInt8] {
        let n = block.algorithm.blockSize
        var out: [UInt8] = []
        out.reserveCapacity(blocks.count)
        for at in stride(from: 0, to: blocks.count, by: n) {
            let b = Array(blocks[at..<(at + n)])
            if direction == .encrypt {
                chain = block.process(zip(b, chain).map { $0 ^ $1 })
                out += chain
            } else {
                out += zip(block.process(b), chain).map { $0 ^ $1 }
                chain = b
            }
        }
        return out
    }

    /// CTS's last 16 to 32 bytes (CS3): one block is plain CBC; otherwise the last two blocks
    /// come out swapped, the final one cut to the data's length.
    private func ctsFinal(_ tail: [UInt8]) -> [UInt8] {
        let n = block.algorithm.blockSize
        guard tail.count > n else { return cbc(tail) }
        let d = tail.count - n   // 1...n bytes in the last block
        if direction == .encrypt {
            let full = cbc(Array(tail[..<n]))                       // C(n-1)
            let last = tail[n...] + [UInt8](repeating: 0, count: n - d)
            let swapped = block.process(zip(last, full).map { $0 ^ $1 })   // Cn
            return swapped + full.prefix(d)
        }
        let x = Array(tail[..<n]), y = Array(tail[n...])
        let z = block.process(x)                                     // C(n-1) ⊕ Pn‖0
        let previous = Array(y) + z[d...]                            // C(n-1)
        let pn = zip(z.prefix(d), y).map { $0 ^ $1 }
        let pn1 = zip(block.process(previous), chain).map { $0 ^ $1 }
        chain = previous
        return pn1 + pn
    }

    /// XTS over whole blocks: C = E_K1(P ⊕ T) ⊕ T, then T = T·α in GF(2^128).
    private func xts(_ blocks: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(blocks.count)
        for at in stride(from: 0, to: blocks.count, by: 16) {
            out += xtsBlock(Array(blocks[at..<(at + 16)]), tweak: chain)
            chain = Self.double(chain)
        }
        return out
    }

    private func xtsBlock(_ b: [UInt8], tweak: [UInt8]) -> [UInt8] {
        zip(block.process(zip(b, tweak).map { $0 ^ $1 }), tweak).map { $0 ^ $1 }
    }

    /// Multiplication by α (x) in GF(2^128), IEEE 1619's little-endian convention.
    static func double(_ t: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var carry: UInt8 = 0
        for i in 0..<16 {
            out[i] = (t[i] << 1) | carry
            carry = t[i] >> 7
        }
        if carry != 0 { out[0] ^= 0x87 }
        return out
    }

    /// XTS's last 16 to 32 bytes, with ciphertext stealing for a partial last block (IEEE 1619
    /// §5.3.2 / §5.4.2: decryption takes the last two tweaks in the other order).
    private func xtsFinal(_ tail: [UInt8]) -> [UInt8] {
        guard tail.count % 16 != 0 else { return xts(tail) }
        let r = tail.count - 16
        let t1 = chain, t2 = Self.double(chain)
        let first = Array(tail[..<16]), last = Array(tail[16...])
        if direction == .encrypt {
            let cc = xtsBlock(first, tweak: t1)
            let pp = last + cc[r...]
            return xtsBlock(pp, tweak: t2) + cc.prefix(r)
        }
        let pp = xtsBlock(first, tweak: t2)
        let cc = last + pp[r...]
        return xtsBlock(cc, tweak: t1) + pp.prefix(r)
    }

    private func ctr(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: data.count)
        for i in data.indices {
            if streamUsed == stream.count {
                stream = block.process(chain)
                streamUsed = 0
                // The counter block: a 128-bit big-endian increment.
                for j in chain.indices.reversed() {
                    chain[j] &+= 1
                    if chain[j] != 0 { break }
                }
            }
            out[i] = data[i] ^ stream[streamUsed]
            streamUsed += 1
        }
        return out
    }
}

/// Authenticated encryption, streaming and copyable mid-computation (TEE_CopyOperation):
/// AES-GCM on OpenSSL's EVP (its contexts duplicate; mbedTLS's AESGCM is the reference), and
/// AES-CCM (SP 800-38C) composed here of CBC-MAC and CTR over one mbedTLS block call — neither
/// library streams CCM (mbedTLS 2.28 and OpenSSL both take it in one piece), and GP's
/// TEE_AEUpdate does. CCM needs the AAD and payload lengths up front, as GP's TEE_AEInit gives.
public final class AEComputation {
    public enum Mode: Sendable, Hashable { case gcm, ccm }

    public let mode: Mode
    public let direction: CipherDirection
    public let tagLength: Int
    private var gcm: OpaquePointer?
    private var ccm: CCMState?
    private var dataStarted = false

    /// GCM: any non-empty nonce, a tag of 4…16 bytes. CCM: a nonce of 7…13 bytes, a tag of
    /// 4, 6, …, 16 bytes, and the exact AAD and payload lengths to come.
    public init(_ mode: Mode, direction: CipherDirection, key: SecureBytes, nonce: [UInt8], tagLength: Int,
                aadLength: Int = 0, payloadLength: Int = 0) throws {
        guard [16, 24, 32].contains(key.count) else { throw CryptoError(.invalidLength, "an AES key is 16, 24 or 32 bytes, not \(key.count)") }
        self.mode = mode
        self.direction = direction
        self.tagLength = tagLength
        switch mode {
        case .gcm:
            guard !nonce.isEmpty, nonce.count <= 1024 else { throw CryptoError(.invalidLength, "a GCM nonce of \(nonce.count) bytes") }
            guard (4...16).contains(tagLength) else { throw CryptoError(.invalidLength, "a GCM tag of \(tagLength) bytes") }
            guard let cipher = EVP_CIPHER_fetch(nil, "AES-\(key.count * 8)-GCM", nil) else { throw CryptoError(.unsupportedAlgorithm, "OpenSSL has no AES-GCM") }
            defer { EVP_CIPHER_free(cipher) }
            guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError(.libraryFailure, "EVP_CIPHER_CTX_new: out of memory") }
            let enc: Int32 = direction == .encrypt ? 1 : 0
            var ok = EVP_CipherInit_ex(ctx, cipher, nil, nil, nil, enc) == 1
            ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil) == 1
            ok = ok && key.withUnsafeBytes { k in EVP_CipherInit_ex(ctx, nil, nil, bytePointer(k), nonce, enc) } == 1
            guard ok else {
                EVP_CIPHER_CTX_free(ctx)
                throw CryptoError(.libraryFailure, "AES-GCM set-up")
            }
            gcm = ctx
        case .ccm:
            ccm = try CCMState(key: key, nonce: nonce, tagLength: tagLength, aadLength: aadLength, payloadLength: payloadLength, direction: direction)
        }
    }

    private init(copying other: AEComputation) throws {
        mode = other.mode
        direction = other.direction
        tagLength = other.tagLength
        dataStarted = other.dataStarted
        if let ctx = other.gcm {
            guard let dup = EVP_CIPHER_CTX_new() else { throw CryptoError(.libraryFailure, "EVP_CIPHER_CTX_new: out of memory") }
            guard EVP_CIPHER_CTX_copy(dup, ctx) == 1 else { EVP_CIPHER_CTX_free(dup); throw CryptoError(.libraryFailure, "EVP_CIPHER_CTX_copy") }
            gcm = dup
        }
        ccm = other.ccm?.copy()
    }

    deinit { if let gcm { EVP_CIPHER_CTX_free(gcm) } }

    public func copy() throws -> AEComputation { try AEComputation(copying: self) }

    /// More AAD: only before the first data. `.invalidArgument` after data, or past CCM's length.
    public func updateAAD(_ aad: [UInt8]) throws {
        guard !dataStarted else { throw CryptoError(.invalidArgument, "AAD after data") }
        guard !aad.isEmpty else { return }
        if let gcm {
            var produced: Int32 = 0
            guard EVP_CipherUpdate(gcm, nil, &produced, aad, Int32(clamping: aad.count)) == 1 else { throw CryptoError(.libraryFailure, "AES-GCM AAD") }
        } else {
            try ccm!.updateAAD(aad)
        }
    }

    /// Output for `data`: every byte (GCM, CCM). When decrypting, not authentic until the tag checks.
    public func update(_ data: [UInt8]) throws -> [UInt8] {
        dataStarted = true
        guard !data.isEmpty else { return [] }
        if let gcm {
            var out = [UInt8](repeating: 0, count: data.count + 16)
            var produced: Int32 = 0
            guard EVP_CipherUpdate(gcm, &out, &produced, data, Int32(clamping: data.count)) == 1 else { throw CryptoError(.libraryFailure, "AES-GCM update") }
            return Array(out.prefix(Int(produced)))
        }
        return try ccm!.update(data)
    }

    public func finalizeEncryption(_ data: [UInt8]) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        precondition(direction == .encrypt, "finalizeEncryption of a decryption")
        let out = try update(data)
        if let gcm {
            var rest = [UInt8](repeating: 0, count: 16), produced: Int32 = 0
            guard EVP_CipherFinal_ex(gcm, &rest, &produced) == 1 else { throw CryptoError(.libraryFailure, "AES-GCM final") }
            var tag = [UInt8](repeating: 0, count: 16)
            guard EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_AEAD_GET_TAG, 16, &tag) == 1 else { throw CryptoError(.libraryFailure, "AES-GCM tag") }
            return (out + rest.prefix(Int(produced)), Array(tag.prefix(tagLength)))
        }
        return (out, try ccm!.tag())
    }

    /// The last plaintext; `.authenticationFailure` (and nothing) unless `tag` is right.
    public func finalizeDecryption(_ data: [UInt8], tag: [UInt8]) throws -> [UInt8] {
        precondition(direction == .decrypt, "finalizeDecryption of an encryption")
        guard tag.count == tagLength else { throw CryptoError(.authenticationFailure, "a tag of \(tag.count) bytes, not \(tagLength)") }
        let out = try update(data)
        if let gcm {
            var expected = tag
            guard EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_AEAD_SET_TAG, Int32(tag.count), &expected) == 1 else { throw CryptoError(.libraryFailure, "AES-GCM tag") }
            var rest = [UInt8](repeating: 0, count: 16), produced: Int32 = 0
            guard EVP_CipherFinal_ex(gcm, &rest, &produced) == 1 else { throw CryptoError(.authenticationFailure, "AES-GCM tag mismatch") }
            return out + rest.prefix(Int(produced))
        }
        guard constantTimeEquals(try ccm!.tag(), tag) else { throw CryptoError(.authenticationFailure, "AES-CCM tag mismatch") }
        return out
    }
}

/// AES-CCM (SP 800-38C / RFC 3610) streaming: CBC-MAC over B0, the encoded AAD and the payload,
/// CTR from counter block 1 for the payload, the tag the MAC masked with counter block 0.
final class CCMState {
    private let mac: CBCMACState
    private let ctr: CipherComputation
    private let s0: [UInt8]
    private let tagLength: Int
    private let aadLength: Int, payloadLength: Int
    private var aadSeen = 0, payloadSeen = 0
    private let direction: CipherDirection

    init(key: SecureBytes, nonce: [UInt8], tagLength: Int, aadLength: Int, payloadLength: Int, direction: CipherDirection) throws {
        guard (7...13).contains(nonce.count) else { throw CryptoError(.invalidLength, "a CCM nonce is 7 to 13 bytes, not \(nonce.count)") }
        guard (4...16).contains(tagLength), tagLength % 2 == 0 else { throw CryptoError(.invalidLength, "a CCM tag is 4, 6, …, 16 bytes, not \(tagLength)") }
        let l = 15 - nonce.count
        // The payload length must fit in L bytes (and the caller's lengths are bounded by Int).
        guard aadLength >= 0, payloadLength >= 0, l >= 8 || payloadLength < 1 << (8 * l) else {
            throw CryptoError(.invalidLength, "a CCM payload of \(payloadLength) bytes does not fit a \(nonce.count)-byte nonce")
        }
        self.tagLength = tagLength
        self.aadLength = aadLength
        self.payloadLength = payloadLength
        self.direction = direction
        let block = try BlockCipher(.aes, key: key, direction: .encrypt)
        let flags = UInt8((aadLength > 0 ? 64 : 0) + 8 * ((tagLength - 2) / 2) + (l - 1))
        let b0 = [flags] + nonce + (0..<l).reversed().map { UInt8(truncatingIfNeeded: UInt64(payloadLength) >> (8 * UInt64($0))) }
        mac = CBCMACState(cipher: block, chain: [UInt8](repeating: 0, count: 16), pkcs5: false)
        mac.update(b0)
        if aadLength > 0 {
            let a = UInt64(aadLength)
            let encoded: [UInt8] = a < 0xFF00 ? [UInt8(a >> 8), UInt8(a & 0xFF)]
                : a <= 0xFFFF_FFFF ? [0xFF, 0xFE] + (0..<4).reversed().map { UInt8(truncatingIfNeeded: a >> (8 * UInt64($0))) }
                : [0xFF, 0xFF] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: a >> (8 * UInt64($0))) }
            mac.update(encoded)
        }
        let a0 = [UInt8(l - 1)] + nonce + [UInt8](repeating: 0, count: l)
        s0 = block.process(a0)
        var a1 = a0
        a1[15] = 1
        ctr = try CipherComputation(.aes, mode: .ctr, direction: .encrypt, key: key, iv: a1)
    }

    private init(copying o: CCMState) {
        mac = o.mac.copy()
        ctr = o.ctr.copy()
        s0 = o.s0
        tagLength = o.tagLength
        aadLength = o.aadLength
        payloadLength = o.payloadLength
        aadSeen = o.aadSeen
        payloadSeen = o.payloadSeen
        direction = o.direction
    }

    func copy() -> CCMState { CCMState(copying: self) }

    private func padMAC() {
        let n = mac.pending.count
        if n > 0 { mac.update([UInt8](repeating: 0, count: 16 - n)) }
    }

    func updateAAD(_ aad: [UInt8]) throws {
        guard aad.count <= aadLength - aadSeen else { throw CryptoError(.invalidArgument, "more AAD than the \(aadLength) bytes announced") }
        aadSeen += aad.count
        mac.update(aad)
    }

    func update(_ data: [UInt8]) throws -> [UInt8] {
        guard aadSeen == aadLength else { throw CryptoError(.invalidArgument, "CCM data before all \(aadLength) bytes of AAD") }
        guard data.count <= payloadLength - payloadSeen else { throw CryptoError(.invalidArgument, "more payload than the \(payloadLength) bytes announced") }
        if payloadSeen == 0 { padMAC() }
        payloadSeen += data.count
        let out = ctr.update(data)
        mac.update(direction == .encrypt ? data : out)
        return out
    }

    func tag() throws -> [UInt8] {
        guard aadSeen == aadLength, payloadSeen == payloadLength else {
            throw CryptoError(.invalidArgument, "CCM ended after \(aadSeen)/\(aadLength) AAD and \(payloadSeen)/\(payloadLength) payload bytes")
        }
        if payloadSeen == 0 { padMAC() }
        padMAC()
        return Array(zip(try mac.finish(), s0).map { $0 ^ $1 }.prefix(tagLength))
    }
}
