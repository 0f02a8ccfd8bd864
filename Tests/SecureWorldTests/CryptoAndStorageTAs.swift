import TEEInternalAPI

/// Attributes on the wire between the tests and CryptoTA: (u32 id, u32 length, bytes)…; a value
/// attribute has length 8 and carries a, b.
enum AttributeCodec {
    static func encode(_ attributes: [Attribute]) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
        for a in attributes {
            u32(a.id)
            if let b = a.buffer { u32(UInt32(b.count)); out += b } else { u32(8); u32(a.value!.a); u32(a.value!.b) }
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(TEEResult) -> [Attribute] {
        var out: [Attribute] = []
        var i = 0
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        while i < bytes.count {
            guard bytes.count - i >= 8 else { throw .badParameters }
            let id = u32(i), length = Int(u32(i + 4))
            guard length <= bytes.count - i - 8 else { throw .badParameters }
            if id & 0x2000_0000 != 0 {
                guard length == 8 else { throw .badParameters }
                out.append(.value(id, a: u32(i + 8), b: u32(i + 12)))
            } else {
                out.append(.ref(id, Array(bytes[(i + 8)..<(i + 8 + length)])))
            }
            i += 8 + length
        }
        return out
    }
}

/// xtest 4xxx-style crypto commands over the Internal API.
final class CryptoTA: TrustedApplication {
    static let properties = TAProperties(uuid: "cb3e5ba0-adf1-11e0-998b-0002a5d5c51c", singleInstance: true, multiSession: true, description: "crypto test TA")
    enum Cmd: UInt32 {
        case digest = 1      // [in] value a = algorithm; [in] memref data; [out] memref digest
        case verify = 2      // [in] value a = algorithm, b = salt; [in] memref public key attributes; [in] memref digest; [in] memref signature
        case sign = 3        // [in] value a = algorithm, b = salt; [in] memref key-pair attributes; [in] memref digest; [out] memref signature
        case cipher = 4      // [in] value a = algorithm, b = mode; [in] memref key ‖ iv(16); [in] memref data; [out] memref result
        case ae = 5          // [in] value a = mode, b = tag bits; [in] memref key ‖ nonce(12); [in] memref aad;
                             // [inout] memref: plaintext ‖ room for the tag → ciphertext ‖ tag, or ciphertext ‖ tag → plaintext
        case hmac = 6        // [in] value a = 0 compute / 1 compare, b = algorithm (0: HMAC-SHA256); [in] memref key; [in] memref data; [inout] memref tag
        case generate = 7    // [in] value a = algorithm, b = bits; [out] memref public attributes; [in] memref digest; [out] memref signature
        case derive = 8      // [in] value a = bits; [in] memref ECDH key-pair attributes; [in] memref peer X/Y attributes; [out] memref secret
    }
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }

    static func keyType(for algorithm: Algorithm, pair: Bool) -> ObjectType {
        switch algorithm {
        case .rsaPKCS1v15SHA256, .rsaPSSSHA256: pair ? .rsaKeyPair : .rsaPublicKey
        default: pair ? .ecdsaKeyPair : .ecdsaPublicKey
        }
    }

    static func maxBits(_ algorithm: Algorithm) -> Int {
        switch algorithm {
        case .ecdsaP256: 256
        case .ecdsaP384: 384
        default: 4096
        }
    }

    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let cmd = Cmd(rawValue: command) else { throw .notSupported }
        switch cmd {
        case .digest:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let op = try CryptoOperation(algorithm: Algorithm(rawValue: params.value(0).a), mode: .digest)
            let data = try params.memref(1).read()
            op.digestUpdate(Array(data.prefix(data.count / 2)))
            try params.withMemref(2) { (out) throws(TEEResult) in
                var length = out.capacity
                do throws(TEEResult) {
                    try out.write(try op.digestDoFinal(Array(data.dropFirst(data.count / 2)), outputLength: &length))
                } catch {
                    out.size = length
                    throw error
                }
            }
        case .verify:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInput))
            let algorithm = Algorithm(rawValue: params.value(0).a)
            let key = try TransientObject(type: Self.keyType(for: algorithm, pair: false), maxKeySize: Self.maxBits(algorithm))
            try key.populate(try AttributeCodec.decode(try params.memref(1).read()))
            let op = try CryptoOperation(algorithm: algorithm, mode: .verify, maxKeySize: Self.maxBits(algorithm))
            op.setKey(key)
            try op.verifyDigest(try params.memref(2).read(), signature: try params.memref(3).read(), params: [.value(AttributeID.rsaPSSSaltLength, a: params.value(0).b)])
        case .sign:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefOutput))
            let algorithm = Algorithm(rawValue: params.value(0).a)
            let key = try TransientObject(type: Self.keyType(for: algorithm, pair: true), maxKeySize: Self.maxBits(algorithm))
            try key.populate(try AttributeCodec.decode(try params.memref(1).read()))
            let op = try CryptoOperation(algorithm: algorithm, mode: .sign, maxKeySize: Self.maxBits(algorithm))
            op.setKey(key)
            let digest = try params.memref(2).read()
            let salt = params.value(0).b
            try params.withMemref(3) { (out) throws(TEEResult) in
                var length = out.capacity
                do throws(TEEResult) {
                    try out.write(try op.signDigest(digest, params: [.value(AttributeID.rsaPSSSaltLength, a: salt)], outputLength: &length))
                } catch {
                    out.size = length
                    throw error
                }
            }
        case .cipher:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefOutput))
            let keyIV = try params.memref(1).read()
            guard keyIV.count > 16 else { throw .badParameters }
            let key = try TransientObject(type: .aes, maxKeySize: 256)
            try key.populate([.ref(AttributeID.secretValue, Array(keyIV.dropLast(16)))])
            let op = try CryptoOperation(algorithm: Algorithm(rawValue: params.value(0).a), mode: params.value(0).b == 0 ? .encrypt : .decrypt, maxKeySize: 256)
            op.setKey(key)
            try op.cipherInit(iv: Array(keyIV.suffix(16)))
            let data = try params.memref(2).read()
            try params.withMemref(3) { (out) throws(TEEResult) in
                var length = out.capacity
                let first = try op.cipherUpdate(Array(data.prefix(7)), outputLength: &length)
                length = out.capacity - first.count
                let rest = try op.cipherDoFinal(Array(data.dropFirst(7)), outputLength: &length)
                try out.write(first + rest)
            }
        case .ae:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInout))
            let (mode, tagBits) = params.value(0)
            let keyNonce = try params.memref(1).read()
            guard keyNonce.count == 44 else { throw .badParameters }
            let key = try TransientObject(type: .aes, maxKeySize: 256)
            try key.populate([.ref(AttributeID.secretValue, Array(keyNonce.prefix(32)))])
            let op = try CryptoOperation(algorithm: .aesGCM, mode: mode == 0 ? .encrypt : .decrypt, maxKeySize: 256)
            op.setKey(key)
            try op.aeInit(nonce: Array(keyNonce.suffix(12)), tagBits: Int(tagBits))
            op.aeUpdateAAD(try params.memref(2).read())
            let tagLength = Int(tagBits) / 8
            let data = try params.memref(3).read()
            guard data.count >= tagLength else { throw .badParameters }
            try params.withMemref(3) { (out) throws(TEEResult) in
                var length = out.capacity + 15
                if mode == 0 {
                    let (ct, tag) = try op.aeEncryptFinal(Array(data.dropLast(tagLength)), outputLength: &length)
                    try out.write(ct + tag)
                } else {
                    try out.write(try op.aeDecryptFinal(Array(data.dropLast(tagLength)), tag: Array(data.suffix(tagLength)), outputLength: &length))
                }
            }
        case .hmac:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInout))
            // value b: the MAC algorithm (0: HMAC-SHA256); the key object is the one it takes.
            let algorithm = params.value(0).b == 0 ? Algorithm.hmacSHA256 : Algorithm(rawValue: params.value(0).b)
            let type: ObjectType = switch algorithm {
            case .aesCMAC: .aes
            case .hmacSHA384: .hmacSHA384
            case .hmacSHA512: .hmacSHA512
            case .hmacSHA1: .hmacSHA1
            default: .hmacSHA256
            }
            let keyBytes = try params.memref(1).read()
            let key = try TransientObject(type: type, maxKeySize: type == .aes ? 256 : 1024)
            try key.populate([.ref(AttributeID.secretValue, keyBytes)])
            let op = try CryptoOperation(algorithm: algorithm, mode: .mac, maxKeySize: type == .aes ? 256 : 1024)
            op.setKey(key)
            op.macInit()
            // TEE_ResetOperation drops what was fed so far: feed junk, reset, start again.
            op.macUpdate([0xEE])
            op.reset()
            op.macInit()
            let data = try params.memref(2).read()
            if params.value(0).a == 1 {
                try op.macCompareFinal(data, expected: try params.memref(3).read())
            } else {
                try params.withMemref(3) { (out) throws(TEEResult) in
                    var length = out.capacity
                    try out.write(try op.macComputeFinal(data, outputLength: &length))
                }
            }
        case .generate:
            try params.require(ParamTypes(.valueInput, .memrefOutput, .memrefInput, .memrefOutput))
            let algorithm = Algorithm(rawValue: params.value(0).a)
            let key = try TransientObject(type: Self.keyType(for: algorithm, pair: true), maxKeySize: Self.maxBits(algorithm))
            try key.generateKey(size: Int(params.value(0).b))
            var attributes: [Attribute] = []
            let ids = key.type == .rsaKeyPair ? [AttributeID.rsaModulus, AttributeID.rsaPublicExponent] : [AttributeID.eccPublicX, AttributeID.eccPublicY]
            for id in ids {
                var length = 1024
                attributes.append(.ref(id, try key.bufferAttribute(id, length: &length)))
            }
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(AttributeCodec.encode(attributes)) }
            let op = try CryptoOperation(algorithm: algorithm, mode: .sign, maxKeySize: Self.maxBits(algorithm))
            op.setKey(key)
            let digest = try params.memref(2).read()
            try params.withMemref(3) { (out) throws(TEEResult) in
                var length = out.capacity
                try out.write(try op.signDigest(digest, outputLength: &length))
            }
        case .derive:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefOutput))
            let bits = Int(params.value(0).a)
            let pair = try TransientObject(type: .ecdhKeyPair, maxKeySize: bits)
            try pair.populate(try AttributeCodec.decode(try params.memref(1).read()))
            let op = try CryptoOperation(algorithm: .ecdhDeriveSharedSecret, mode: .derive, maxKeySize: bits)
            op.setKey(pair)
            let secret = try TransientObject(type: .genericSecret, maxKeySize: bits)
            op.deriveKey(try AttributeCodec.decode(try params.memref(2).read()), into: secret)
            try params.withMemref(3) { (out) throws(TEEResult) in
                var length = out.capacity
                try out.write(try secret.bufferAttribute(AttributeID.secretValue, length: &length))
            }
        }
    }
}

/// Trusted-storage commands, shared by two TAs with different UUIDs (to test isolation).
enum StorageCommands {
    enum Cmd: UInt32 {
        case create = 1    // [in] value a = flags; [in] memref id; [in] memref data
        case read = 2      // [in] memref id; [out] memref data
        case conflict = 3  // [in] value a = flags of the first handle, b = of the second; [in] memref id
        case scenario = 4  // [in] memref id; [out] memref transcript
        case delete = 5    // [in] memref id
        case list = 6      // [out] memref ids, hex, one per line
        case enumerate = 7 // [out] memref transcript of GP's enumerator over the TA's objects
        case info = 8      // [in] value a = flags, b = position to seek to; [in] memref id; [out] memref TEE_ObjectInfo
        case persistKeys = 9  // [out] memref transcript: each key type generated, persisted, reopened and compared
    }

    static func run(_ tee: TEE, _ command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let cmd = Cmd(rawValue: command) else { throw .notSupported }
        let storage = try tee.storage
        switch cmd {
        case .create:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput))
            try storage.create(try params.memref(1).read(), flags: DataFlags(rawValue: params.value(0).a), initialData: try params.memref(2).read()).close()
        case .read:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let object = try storage.open(try params.memref(0).read(), flags: [.accessRead, .shareRead])
            defer { object.close() }
            let data = try object.read(Int.max)
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(data) }
        case .conflict:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let id = try params.memref(1).read()
            let first = try storage.open(id, flags: DataFlags(rawValue: params.value(0).a))
            defer { first.close() }
            try storage.open(id, flags: DataFlags(rawValue: params.value(0).b)).close()
        case .scenario:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let id = try params.memref(0).read()
            var log: [String] = []
            let object = try storage.create(id, flags: [.accessRead, .accessWrite, .accessWriteMeta, .overwrite], initialData: Array("hello world".utf8))
            try object.seek(6, from: .set)
            try object.write(Array("TEE!!".utf8))
            try object.seek(0, from: .set)
            log.append(String(decoding: try object.read(5), as: UTF8.self))
            try object.seek(-5, from: .end)
            log.append(String(decoding: try object.read(100), as: UTF8.self))
            do { try object.seek(-100, from: .current) } catch { log.append("seek:\(error.rawValue == TEEResult.overflow.rawValue)") }
            try object.truncate(to: 5)
            log.append("size:\(try object.dataSize)")
            try object.seek(8, from: .set)
            try object.write([0x21])
            log.append("gap:\(try object.dataSize)")
            try object.rename(to: id + Array("-renamed".utf8))
            log.append("ids:\(try storage.objectIDs().map { String(decoding: $0, as: UTF8.self) }.joined(separator: ","))")
            try object.closeAndDelete()
            log.append("after:\(try storage.objectIDs().count)")
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(Array(log.joined(separator: "|").utf8)) }
        case .delete:
            try params.require(ParamTypes(.memrefInput))
            try storage.open(try params.memref(0).read(), flags: [.accessWriteMeta]).closeAndDelete()
        case .enumerate:
            try params.require(ParamTypes(.memrefOutput))
            // What a C TA sees: allocate, start, next until ITEM_NOT_FOUND; then next again,
            // reset + next, and a storage that does not exist.
            func code(_ body: () throws(TEEResult) -> Void) -> String {
                do { try body(); return "ok" } catch { return String(error.rawValue, radix: 16) }
            }
            let walker = PersistentObjectEnumerator(storage: storage)
            var log = ["before-start:" + code { () throws(TEEResult) in _ = try walker.next() }]
            log.append("start:" + code { () throws(TEEResult) in try walker.start() })
            while let (id, info) = try? walker.next() {
                log.append(String(decoding: id, as: UTF8.self) + "=\(info.dataSize)/\(String(info.handleFlagsWord, radix: 16))/\(String(info.objectType.rawValue, radix: 16))")
            }
            log.append("end:" + code { () throws(TEEResult) in _ = try walker.next() })
            walker.reset()
            log.append("reset:" + code { () throws(TEEResult) in _ = try walker.next() })
            log.append("ree:" + code { () throws(TEEResult) in try walker.start(storageID: 0x8000_0000) })
            log.append("rpmb:" + code { () throws(TEEResult) in try walker.start(storageID: 0x8000_0100) })
            try params.withMemref(0) { (out) throws(TEEResult) in try out.write(Array(log.joined(separator: "|").utf8)) }
        case .info:
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let object = try storage.open(try params.memref(1).read(), flags: DataFlags(rawValue: params.value(0).a))
            defer { object.close() }
            try object.seek(Int(params.value(0).b), from: .set)
            let info = try object.info
            try params.withMemref(2) { (out) throws(TEEResult) in try out.write(info.bytes) }
        case .persistKeys:
            try params.require(ParamTypes(.memrefOutput))
            // Every attribute a key can have, compared between the generated key and the one the
            // persistent object gives back; the information words too.
            let ids: [UInt32] = [AttributeID.secretValue, AttributeID.rsaModulus, AttributeID.rsaPublicExponent, AttributeID.rsaPrivateExponent,
                                 AttributeID.rsaPrime1, AttributeID.rsaPrime2, AttributeID.rsaExponent1, AttributeID.rsaExponent2, AttributeID.rsaCoefficient,
                                 AttributeID.eccPublicX, AttributeID.eccPublicY, AttributeID.eccPrivateValue]
            func attributes(_ o: TransientObject) -> [[UInt8]?] {
                ids.map { id in var n = Int.max; return try? o.bufferAttribute(id, length: &n) }
            }
            var log: [String] = []
            for (name, type, bits, curve) in [("aes", ObjectType.aes, 256, UInt32?.none), ("hmac", .hmacSHA256, 512, nil), ("rsa", .rsaKeyPair, 1024, nil),
                                              ("ecdsa", .ecdsaKeyPair, 256, ECCCurveID.p256), ("ecdh", .ecdhKeyPair, 384, ECCCurveID.p384)] {
                let original = try TransientObject(type: type, maxKeySize: bits)
                try original.generateKey(size: bits, curve: curve)
                original.restrictUsage([.sign, .verify, .encrypt, .decrypt, .extractable])
                let id = Array("key-\(name)".utf8)
                try storage.create(id, flags: [.accessRead, .accessWriteMeta, .overwrite], key: original, initialData: [9, 9]).close()
                let object = try storage.open(id, flags: [.accessRead, .accessWriteMeta])
                let back = try object.keyObject()
                let info = try object.info
                let sameInfo = info.objectType == type && Int(info.objectSize) == original.keySize && Int(info.maxObjectSize) == bits && info.objectUsage == original.usage && info.dataSize == 2
                let count = attributes(original).compactMap { $0 }.count
                log.append("\(name):\(attributes(back) == attributes(original) && back.usage == original.usage ? "same" : "DIFFERENT")/\(count)/\(sameInfo ? "info" : "INFO")/\(try object.read(5) == [9, 9] ? "data" : "DATA")")
                try object.closeAndDelete()
            }
            try params.withMemref(0) { (out) throws(TEEResult) in try out.write(Array(log.joined(separator: "|").utf8)) }
        case .list:
            try params.require(ParamTypes(.memrefOutput))
            let ids = try storage.objectIDs().map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
            try params.withMemref(0) { (out) throws(TEEResult) in try out.write(Array(ids.utf8)) }
        }
    }
}

final class StorageTA: TrustedApplication {
    static let properties = TAProperties(uuid: "b689f2a7-8adf-477a-9f99-32e90c0ad0a2", singleInstance: true, multiSession: true, description: "storage test TA")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try StorageCommands.run(tee, command, &params) }
}

final class OtherStorageTA: TrustedApplication {
    static let properties = TAProperties(uuid: "b689f2a7-8adf-477a-9f99-32e90c0ad0a3", singleInstance: true, multiSession: true, description: "second storage test TA")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try StorageCommands.run(tee, command, &params) }
}
