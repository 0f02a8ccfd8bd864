import HelloWorldTAInterface
import TEEInternalAPI

/// The example TA: OP-TEE's hello_world, a digest, random bytes, trusted storage and a
/// cancellable wait. Each handler checks its parameter types first, then sizes.
public final class HelloWorld: TrustedApplication {
    public static let properties = TAProperties(
        uuid: HelloWorldTA.uuid, singleInstance: true, multiSession: true,
        version: "1.0", description: "hello world example")

    let tee: TEE

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
        tee.log("has been created")
    }

    public func destroy() { tee.log("has been destroyed") }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = HelloWorldTA.Command(rawValue: command) else { throw .notSupported }
        switch command {
        case .incrementValue, .decrementValue:
            try params.require(ParamTypes(.valueInout))
            let a = params.value(0).a
            params.setValue(0, a: command == .incrementValue ? a &+ 1 : a &- 1)
        case .sha256:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let data = try params.memref(0).read()
            let op = try CryptoOperation(algorithm: .sha256, mode: .digest)
            try params.withMemref(1) { (out) throws(TEEResult) in
                var length = out.capacity
                do throws(TEEResult) {
                    try out.write(try op.digestDoFinal(data, outputLength: &length))
                } catch {
                    out.size = length  // SHORT_BUFFER: tell the client how much is needed
                    throw error
                }
            }
        case .random:
            try params.require(ParamTypes(.memrefOutput))
            try params.withMemref(0) { (out) throws(TEEResult) in try out.write(tee.randomBytes(out.capacity)) }
        case .store:
            try params.require(ParamTypes(.memrefInput, .memrefInput))
            let id = try params.memref(0).read(), data = try params.memref(1).read()
            let object = try tee.storage.create(id, flags: [.accessWrite, .overwrite], initialData: data)
            object.close()
        case .load:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let id = try params.memref(0).read()
            let object = try tee.storage.open(id, flags: [.accessRead, .shareRead])
            defer { object.close() }
            let data = try object.read(try object.dataSize)
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(data) }
        case .delete:
            try params.require(ParamTypes(.memrefInput))
            let object = try tee.storage.open(try params.memref(0).read(), flags: [.accessWriteMeta])
            try object.closeAndDelete()
        case .write:
            try params.require(ParamTypes(.memrefInput, .memrefInput, .valueInput))
            let object = try tee.storage.open(try params.memref(0).read(), flags: [.accessWrite])
            defer { object.close() }
            try object.seek(Int(params.value(2).a), from: .set)
            try object.write(try params.memref(1).read())
        case .wait:
            try params.require(ParamTypes(.valueInput))
            tee.setCancellationMasked(false)
            try tee.wait(milliseconds: params.value(0).a)
        case .watch:
            try params.require(ParamTypes(.memrefInput, .valueInout))
            let memory = params.memref(0)
            guard memory.capacity > 0 else { throw .badParameters }
            tee.setCancellationMasked(false)
            let initial = try memory.read(offset: 0, count: 1)[0]
            for _ in 0..<params.value(1).a {
                let now = try memory.read(offset: 0, count: 1)[0]
                if now != initial {
                    params.setValue(1, a: UInt32(now), b: 1)
                    return
                }
                try tee.wait(milliseconds: 1)
            }
            params.setValue(1, a: UInt32(initial), b: 0)
        case .sum:
            try params.require(ParamTypes(.memrefInput, .valueOutput))
            // One pass over the caller's bytes in place (a sum checks nothing, so bytes the
            // caller changes meanwhile only change the answer it gets).
            let memory = params.memref(0)
            let total = try memory.withUnsafeSharedBytes { (bytes) throws(TEEResult) -> UInt32 in byteSum(bytes) }
            params.setValue(1, a: total, b: UInt32(memory.capacity))
        case .whoami:
            try params.require(ParamTypes(.memrefOutput, .valueOutput))
            let client = tee.client
            try params.withMemref(0) { (out) throws(TEEResult) in try out.write(client.uuid.octets) }
            params.setValue(1, a: client.login.rawValue)
        }
    }
}

/// The sum of the bytes, mod 2³²: 16 bytes at a time as eight 16-bit lanes, three vector
/// operations per 16 bytes (SSE2), at about memcpy's speed. Each lane adds the words whole
/// (`all`, wrapping) and their high bytes apart (`high`); the low bytes' sum is then `all` minus
/// 256 × `high` mod 2¹⁶, exact while it stays below 2¹⁶. (The first version masked and shifted
/// each word — four operations — and ran at ≈ 0.75× memcpy.)
func byteSum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = bytes.baseAddress else { return 0 }
    let n = bytes.count
    var total: UInt32 = 0, i = 0
    while n - i >= 64 {
        var all0 = SIMD8<UInt16>(), all1 = SIMD8<UInt16>(), high0 = SIMD8<UInt16>(), high1 = SIMD8<UInt16>()
        // A 64-byte step adds 4 low and 4 high bytes to each lane of the pairs (all0 + all1,
        // high0 + high1): 64 steps stay at or below 64 × 4 × 255 = 65,280 < 2¹⁶.
        var steps = 0
        while steps < 64 && n - i >= 64 {
            let w0 = base.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt16>.self)
            let w1 = base.loadUnaligned(fromByteOffset: i + 16, as: SIMD8<UInt16>.self)
            let w2 = base.loadUnaligned(fromByteOffset: i + 32, as: SIMD8<UInt16>.self)
            let w3 = base.loadUnaligned(fromByteOffset: i + 48, as: SIMD8<UInt16>.self)
            all0 &+= w0 &+ w1
            all1 &+= w2 &+ w3
            high0 &+= (w0 &>> 8) &+ (w1 &>> 8)
            high1 &+= (w2 &>> 8) &+ (w3 &>> 8)
            i += 64
            steps += 1
        }
        let high = high0 &+ high1, low = (all0 &+ all1) &- (high &<< 8)
        total &+= SIMD8<UInt32>(truncatingIfNeeded: low).wrappedSum() &+ SIMD8<UInt32>(truncatingIfNeeded: high).wrappedSum()
    }
    while i < n {
        total &+= UInt32(base.load(fromByteOffset: i, as: UInt8.self))
        i += 1
    }
    return total
}
