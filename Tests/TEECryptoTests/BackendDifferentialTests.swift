import Testing
import TEECrypto

/// Where mbedTLS and OpenSSL both implement a function, both compute it on the same random
/// inputs — lengths around the block boundaries, streamed in random pieces, copied half-way —
/// and must agree byte for byte (the vectors pin one of them to the standard).
@Suite struct BackendDifferentialTests {
    /// A reproducible generator (SplitMix64), so a failure names an input that can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: DigestAlgorithm.allCases.filter { $0.backends.count > 1 })
    func digestsAgree(algorithm: DigestAlgorithm) {
        #expect(algorithm.backends == [.mbedTLS, .openSSL])
        var random = SplitMix(state: 0x5EED_0000 + UInt64(algorithm.byteCount))
        let lengths = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4096, 65_537] + (0..<40).map { _ in Int.random(in: 0..<20_000, using: &random) }
        for length in lengths {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            var mbed = DigestHasher(algorithm, backend: .mbedTLS)
            var openSSL = DigestHasher(algorithm, backend: .openSSL)
            // The same random split for both.
            var at = 0
            var copies: [[UInt8]] = []
            while at < message.count {
                let n = min(Int.random(in: 1...300, using: &random), message.count - at)
                mbed.update(message[at..<(at + n)])
                openSSL.update(message[at..<(at + n)])
                at += n
                if copies.isEmpty, at >= message.count / 2 {
                    var c1 = mbed.copy(), c2 = openSSL.copy()
                    c1.update(message[at...])
                    c2.update(message[at...])
                    copies = [c1.finalize().bytes, c2.finalize().bytes]
                }
            }
            let results = [mbed.finalize().bytes, openSSL.finalize().bytes]
            #expect(results[0] == results[1], "\(algorithm.rawValue), \(length) bytes: mbedTLS and OpenSSL differ")
            #expect(results[0] == Digest.hash(algorithm, message, backend: .mbedTLS).bytes)
            if !copies.isEmpty { #expect(copies == results, "\(algorithm.rawValue), \(length) bytes: a copy taken half-way differs") }
        }
    }

    /// HMAC over every hash both have and CMAC over AES and 3DES: random keys and messages,
    /// streamed in the same random pieces on both backends, copies taken half-way.
    @Test(arguments: [MACAlgorithm.hmac(.md5), .hmac(.sha1), .hmac(.sha224), .hmac(.sha256), .hmac(.sha384), .hmac(.sha512), .cmac(.aes), .cmac(.des3)])
    func macsAgree(algorithm: MACAlgorithm) throws {
        var random = SplitMix(state: 0xC0FF_EE00 + UInt64(algorithm.tagLength))
        for round in 0..<40 {
            let keyLength: Int = switch algorithm {
            case .cmac(.aes): [16, 24, 32][round % 3]
            case .cmac: [16, 24][round % 2]
            default: Int.random(in: 1...200, using: &random)
            }
            let key = SecureBytes((0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &random) })
            let message = (0..<Int.random(in: 0..<5000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let split = message.isEmpty ? 0 : Int.random(in: 0..<message.count, using: &random)
            var tags: [[UInt8]] = []
            for backend in [CryptoBackend.mbedTLS, .openSSL] {
                let mac = try MACComputation(algorithm, key: key, backend: backend)
                mac.update(Array(message.prefix(split)))
                let copy = try? mac.copy()   // nil for mbedTLS's CMAC, which has no copy
                mac.update(Array(message.dropFirst(split)))
                let tag = try mac.finalize()
                if let copy {
                    copy.update(Array(message.dropFirst(split)))
                    #expect(try copy.finalize() == tag, "\(algorithm) \(backend) copy")
                }
                tags.append(tag)
            }
            #expect(tags[0] == tags[1], "\(algorithm), key \(keyLength) bytes, message \(message.count) bytes: the backends differ")
        }
    }

    /// SHA-3 has one backend here (mbedTLS 2.28 lacks it): said, not assumed.
    @Test func sha3IsOpenSSLOnly() {
        for algorithm in [DigestAlgorithm.sha3_224, .sha3_256, .sha3_384, .sha3_512] {
            #expect(algorithm.backends == [.openSSL])
            #expect(algorithm.servingBackend == .openSSL)
        }
    }
}
