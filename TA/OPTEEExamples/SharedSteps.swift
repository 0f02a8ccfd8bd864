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

/// Runs a GP output function with parameter `index`'s capacity as its output length and writes
/// what it produced there — or, when it fails (SHORT_BUFFER above all), sets the parameter's
/// size to the length the function reported, as the originals do (`memref.size = len`).
func produceOutput(into params: inout Parameters, at index: Int,
                   _ produce: (inout Int) throws(TEEResult) -> [UInt8]) throws(TEEResult) {
    var length = params.memref(index).capacity
    do {
        let out = try produce(&length)
        try params.withMemref(index) { (m) throws(TEEResult) in try m.write(out) }
    } catch {
        try params.withMemref(index) { (m) throws(TEEResult) in m.size = length }
        throw error
    }
}
