/// What a trusted-storage backend keeps for one persistent object: GP's object metadata (type,
/// key size, maximum size, usage, the key's attributes — none for a data object) and the data
/// stream. Backends store these bytes opaquely, sealed (FileStorage: AES-GCM under the TA's
/// storage key); records written before keys could be stored hold raw data, which FileStorage
/// hands back wrapped as a data object.
///
/// ```
/// "RPO1"        magic and version
/// u32 type      TEE_TYPE_* (TEE_TYPE_DATA for a data object)
/// u32 keySize, u32 maxKeySize, u32 usage
/// u32 count     attributes, then per attribute: u32 id, u8 kind (0 buffer, 1 value),
///               buffer: u32 length, bytes · value: u32 a, u32 b
/// data          the rest
/// ```
package struct StoredObject: Equatable {
    package static let magic = Array("RPO1".utf8)
    /// At most this many attributes (an RSA key pair has eight).
    static let maxAttributes = 16

    package var type: ObjectType = .data
    package var keySize: UInt32 = 0
    package var maxKeySize: UInt32 = 0
    package var usage: KeyUsage = .all
    package var attributes: [Attribute] = []
    package var data: [UInt8] = []

    package static func dataObject(_ data: [UInt8]) -> StoredObject { StoredObject(data: data) }

    package var isKey: Bool { type != .data }

    package func encoded() -> [UInt8] {
        var out = Self.magic
        func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        u32(type.rawValue); u32(keySize); u32(maxKeySize); u32(usage.rawValue); u32(UInt32(attributes.count))
        for attribute in attributes {
            u32(attribute.id)
            if let v = attribute.value {
                out.append(1); u32(v.a); u32(v.b)
            } else {
                let b = attribute.buffer ?? []
                out.append(0); u32(UInt32(b.count)); out += b
            }
        }
        return out + data
    }

    /// Attacker: whoever wrote the record — the TA itself (its host process stores what it
    /// likes in its own storage) or, for a file that still authenticates, nobody else. Every
    /// length is checked against what remains; anything malformed is CORRUPT_OBJECT.
    package static func decode(_ bytes: [UInt8]) throws(TEEResult) -> StoredObject {
        var (o, at) = try decodeMetadata(bytes)
        o.data = Array(bytes[at...])
        return o
    }

    /// The metadata at the start of `bytes` (a record or a prefix of one; data left empty) and
    /// where the data starts. CORRUPT_OBJECT if the metadata is malformed or does not end inside
    /// `bytes`. Attacker: as for `decode`.
    package static func decodeMetadata(_ bytes: [UInt8]) throws(TEEResult) -> (StoredObject, dataStart: Int) {
        var at = 0
        func need(_ n: Int) throws(TEEResult) { guard n <= bytes.count - at else { throw .corruptObject } }
        func u32() throws(TEEResult) -> UInt32 {
            try need(4)
            defer { at += 4 }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }
        try need(4)
        guard Array(bytes[0..<4]) == magic else { throw .corruptObject }
        at = 4
        var o = StoredObject()
        o.type = ObjectType(rawValue: try u32())
        o.keySize = try u32()
        o.maxKeySize = try u32()
        o.usage = KeyUsage(rawValue: try u32())
        let count = Int(try u32())
        guard count <= maxAttributes else { throw .corruptObject }
        for _ in 0..<count {
            let id = try u32()
            try need(1)
            let kind = bytes[at]
            at += 1
            switch kind {
            case 0:
                let length = Int(try u32())
                try need(length)
                o.attributes.append(.ref(id, Array(bytes[at..<(at + length)])))
                at += length
            case 1:
                let a = try u32(), b = try u32()
                o.attributes.append(.value(id, a: a, b: b))
            default:
                throw .corruptObject
            }
        }
        return (o, at)
    }
}

extension TransientObject {
    /// Every attribute of the key, as `populate` takes them back (GP's TEE_CreatePersistentObject
    /// copies them into storage). Reads the key in place, whatever its usage: the bytes go to
    /// the TA's sealed storage, never to the TA.
    func exportedAttributes() -> [Attribute] {
        guard isInitialized else { return [] }
        var out: [Attribute] = []
        let candidates: [UInt32] = [
            AttributeID.secretValue, AttributeID.rsaModulus, AttributeID.rsaPublicExponent, AttributeID.rsaPrivateExponent,
            AttributeID.rsaPrime1, AttributeID.rsaPrime2, AttributeID.rsaExponent1, AttributeID.rsaExponent2, AttributeID.rsaCoefficient,
            AttributeID.eccPublicX, AttributeID.eccPublicY, AttributeID.eccPrivateValue,
            AttributeID.dsaPrime, AttributeID.dsaSubprime, AttributeID.dsaBase, AttributeID.dsaPublicValue, AttributeID.dsaPrivateValue,
            AttributeID.dhPrime, AttributeID.dhBase, AttributeID.dhSubprime, AttributeID.dhPublicValue, AttributeID.dhPrivateValue,
        ] + (type.kdfSecretAttribute.map { [$0] } ?? [])
        for id in candidates where !out.contains(where: { $0.id == id }) {
            var length = Int.max
            if let bytes = try? bufferAttribute(id, length: &length) { out.append(.ref(id, bytes)) }
        }
        for id in [AttributeID.eccCurve, AttributeID.dhXBits] {
            if let (a, b) = try? valueAttribute(id) { out.append(.value(id, a: a, b: b)) }
        }
        return out
    }
}
