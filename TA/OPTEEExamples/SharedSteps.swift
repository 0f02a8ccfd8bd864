import TEEInternalAPI

/// What the ecdsa and sign_verify examples both do last: sign `digest` with `key`, verify the
/// signature with `publicKey` (as their originals do before handing it out), and write it to
/// output parameter `index` — SHORT_BUFFER with the size when it does not fit.
func signVerifyAndReturn(_ algorithm: Algorithm, bits: Int, key: TransientObject, publicKey: TransientObject,
                         digest: [UInt8], into params: inout Parameters, at index: Int) throws(TEEResult) {
    let sign = try CryptoOperation(algorithm: algorithm, mode: .sign, maxKeySize: bits)
    sign.setKey(key)
    var length = 1024
    let signature = try sign.signDigest(digest, outputLength: &length)
    let verify = try CryptoOperation(algorithm: algorithm, mode: .verify, maxKeySize: bits)
    verify.setKey(publicKey)
    try verify.verifyDigest(digest, signature: signature)
    try params.withMemref(index) { (out) throws(TEEResult) in
        guard out.capacity >= signature.count else {
            out.size = signature.count
            throw .shortBuffer
        }
        try out.write(signature)
    }
}
