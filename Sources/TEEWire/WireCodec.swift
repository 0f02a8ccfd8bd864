import TEECore

/// The frame layout. Every integer is little-endian; every frame is exactly its header plus the
/// body its kind defines, never more (`maxFrameSize` bounds them all).
///
/// ```
/// header (16 bytes)
///   u32 magic     0x57545052 ("RPTW")
///   u16 version   1
///   u16 kind      1 open, 2 invoke, 3 close, 4 cancel, 5 register memory, 6 unregister memory;
///                 | 0x8000 on a response; 0x8000 alone answers a frame that could not be decoded
///   u32 id        pairs a response with its request
///   u32 reserved  0
/// parameter (24 bytes), four in a row where a body has parameters
///   NONE          24 zero bytes
///   VALUE         u32 a, u32 b, 16 zero bytes
///   MEMREF        u32 memory id, u32 reserved 0, u64 offset, u64 size
/// bodies
///   open request      16 uuid octets (RFC 4122 order), u32 login, u32 connection data,
///                     u32 cancel id, u32 param types, 4 parameters         (= 128)
///   invoke request    u32 session, u32 command, u32 cancel id, u32 param types, 4 parameters (= 112)
///   close request     u32 session, u32 reserved                                  (= 8)
///   cancel request    u32 cancel id, u32 reserved                                (= 8)
///   register request  u32 memory id, u32 flags (INPUT 1 | OUTPUT 2), u64 size     (= 16)
///   unregister        u32 memory id, u32 reserved                                (= 8)
///   supplicant receive  u32 memory id, u32 reserved                              (= 8)
///   supplicant reply  u32 call id, u32 result, u32 output length, u32 reserved   (= 16)
///   response          u32 result, u32 origin, u32 session, u32 param types, 4 parameters (= 112)
/// ```
public enum WireCodec {
    public static let magic: UInt32 = 0x5754_5052
    public static let version: UInt16 = 1
    public static let headerSize = 16
    public static let parameterSize = 24
    public static let responseBit: UInt16 = 0x8000
    /// No frame is larger (bulk data never travels in messages).
    public static let maxFrameSize = 256
    /// A shared-memory region may be at most this large (1 GiB).
    public static let maxMemorySize: UInt64 = 1 << 30

    static func bodySize(_ kind: MessageKind, response: Bool) -> Int {
        if response { return 16 + 4 * parameterSize }
        switch kind {
        case .openSession: return 32 + 4 * parameterSize
        case .invoke: return 16 + 4 * parameterSize
        case .closeSession, .cancel, .unregisterMemory, .supplicantReceive, .refused: return 8
        case .registerMemory, .supplicantReply: return 16
        }
    }

    // MARK: Encoding

    public static func encode(_ message: WireMessage) -> [UInt8] {
        var frame: [UInt8] = []
        encode(message, into: &frame)
        return frame
    }

    /// `encode` into a buffer the caller keeps from call to call (a channel's): its storage is
    /// reused, so a call allocates no frame. `frame` is replaced whole.
    public static func encode(_ message: WireMessage, into frame: inout [UInt8]) {
        let kind: UInt16, body: Int
        switch message {
        case .request(_, let request):
            kind = request.kind.rawValue
            body = bodySize(request.kind, response: false)
        case .response(_, let k, _):
            kind = k | responseBit
            body = bodySize(.refused, response: true)
        }
        // The frame is sized and zeroed once; every field is stored at its offset (reserved
        // words and padding stay zero). This runs twice per call on each side.
        zeroed(&frame, count: headerSize + body)
        var span = frame.mutableSpan
        var w = span.mutableBytes
        var at = 0
        put32(WireCodec.magic, &w, &at); put16(WireCodec.version, &w, &at); put16(kind, &w, &at)
        switch message {
        case .request(let id, let request):
            put32(id, &w, &at); at += 4
            switch request {
            case .openSession(let uuid, let login, let connectionData, let cancelID, let params):
                for octet in uuid.octets { w.storeBytes(of: octet, toByteOffset: at, as: UInt8.self); at += 1 }
                put32(login.rawValue, &w, &at); put32(connectionData, &w, &at); put32(cancelID, &w, &at)
                putParams(params, &w, &at)
            case .invoke(let session, let command, let cancelID, let params):
                put32(session, &w, &at); put32(command, &w, &at); put32(cancelID, &w, &at)
                putParams(params, &w, &at)
            case .closeSession(let session): put32(session, &w, &at)
            case .cancel(let cancelID): put32(cancelID, &w, &at)
            case .registerMemory(let memory, let size, let flags): put32(memory, &w, &at); put32(flags, &w, &at); put64(size, &w, &at)
            case .unregisterMemory(let memory): put32(memory, &w, &at)
            case .supplicantReceive(let memory): put32(memory, &w, &at)
            case .supplicantReply(let call, let result, let length): put32(call, &w, &at); put32(result.rawValue, &w, &at); put32(length, &w, &at)
            }
        case .response(let id, _, let response):
            put32(id, &w, &at); at += 4
            put32(response.result.rawValue, &w, &at); put32(response.origin.rawValue, &w, &at); put32(response.session, &w, &at)
            putParams(response.params, &w, &at)
        }
        _ = consume w
        _ = consume span
    }

    /// `frame` becomes `count` zero bytes, in the storage it has when that is large enough and
    /// not shared.
    private static func zeroed(_ frame: inout [UInt8], count: Int) {
        if frame.count == count {
            for i in 0..<count { frame[i] = 0 }
        } else {
            frame.removeAll(keepingCapacity: true)
            frame.append(contentsOf: repeatElement(0, count: count))
        }
    }

    /// A response frame written straight from its fields, parameter by parameter (`param(i)` must
    /// have the shape `types[i]` says): what the secure world sends after every call, without a
    /// parameter array or a message value in between. Identical bytes to `encode(.response(…))`.
    public static func encodeResponse(id: UInt32, kind: UInt16, result: TEEResult, origin: ReturnOrigin, session: UInt32,
                                      types: ParamTypes, _ param: (Int) -> WireParameter) -> [UInt8] {
        var frame: [UInt8] = []
        encodeResponse(id: id, kind: kind, result: result, origin: origin, session: session, types: types, into: &frame, param)
        return frame
    }

    /// `encodeResponse` into a buffer the caller keeps from call to call (see `encode(_:into:)`).
    public static func encodeResponse(id: UInt32, kind: UInt16, result: TEEResult, origin: ReturnOrigin, session: UInt32,
                                      types: ParamTypes, into frame: inout [UInt8], _ param: (Int) -> WireParameter) {
        zeroed(&frame, count: headerSize + bodySize(.refused, response: true))
        var span = frame.mutableSpan
        var w = span.mutableBytes
        var at = 0
        put32(WireCodec.magic, &w, &at); put16(WireCodec.version, &w, &at); put16(kind | responseBit, &w, &at)
        put32(id, &w, &at); at += 4
        put32(result.rawValue, &w, &at); put32(origin.rawValue, &w, &at); put32(session, &w, &at)
        put32(types.rawValue, &w, &at)
        for i in 0..<4 { putParam(param(i), &w, &at) }
        _ = consume w
        _ = consume span
    }

    private static func put16(_ v: UInt16, _ w: inout MutableRawSpan, _ at: inout Int) {
        w.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt16.self)
        at += 2
    }
    private static func put32(_ v: UInt32, _ w: inout MutableRawSpan, _ at: inout Int) {
        w.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
        at += 4
    }
    private static func put64(_ v: UInt64, _ w: inout MutableRawSpan, _ at: inout Int) {
        w.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt64.self)
        at += 8
    }
    private static func putParams(_ p: WireParameters, _ w: inout MutableRawSpan, _ at: inout Int) {
        put32(p.types.rawValue, &w, &at)
        for param in p.params { putParam(param, &w, &at) }
    }
    private static func putParam(_ param: WireParameter, _ w: inout MutableRawSpan, _ at: inout Int) {
        let start = at
        switch param {
        case .none: break
        case .value(let a, let b): put32(a, &w, &at); put32(b, &w, &at)
        case .memref(let memory, let offset, let size): put32(memory, &w, &at); at += 4; put64(offset, &w, &at); put64(size, &w, &at)
        }
        at = start + parameterSize
    }

    // MARK: Decoding

    /// Decodes one frame. Every malformed frame is refused with a specific `WireError`.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> WireMessage {
        // Attacker-controlled: the whole frame (it comes from another process's memory).
        guard bytes.count <= maxFrameSize else { throw WireError(.tooLarge, "\(bytes.count) bytes; frames are at most \(maxFrameSize)") }
        var r = Reader(bytes: bytes)
        guard try r.u32() == magic else { throw WireError(.badMagic, "not an rproc-tee frame", offset: 0) }
        let version = try r.u16()
        guard version == Self.version else { throw WireError(.unsupportedVersion, "frame version \(version) is not \(Self.version)", offset: 4) }
        let rawKind = try r.u16()
        let isResponse = rawKind & responseBit != 0
        guard let kind = MessageKind(rawValue: rawKind & ~responseBit), isResponse || kind != .refused else {
            throw WireError(.unknownKind, "message kind \(rawKind)", offset: 6)
        }
        let id = try r.u32()
        try r.zero32("header reserved")
        let expected = headerSize + bodySize(kind, response: isResponse)
        guard bytes.count == expected else {
            throw WireError(.badLength, "a \(kind)\(isResponse ? " response" : "") frame is \(expected) bytes, not \(bytes.count)", offset: 0)
        }
        if isResponse {
            let result = TEEResult(rawValue: try r.u32())
            let origin = ReturnOrigin(rawValue: try r.u32())
            guard (1...4).contains(origin.rawValue) else { throw WireError(.badValue, "return origin \(origin.rawValue) is not 1–4", offset: r.position - 4) }
            let session = try r.u32()
            return .response(id: id, kind: kind.rawValue, WireResponse(result: result, origin: origin, session: session, params: try r.params()))
        }
        switch kind {
        case .refused:
            throw WireError(.unknownKind, "message kind 0 is for responses only", offset: 6)
        case .openSession:
            let uuid = TEEUUID(octets: try r.take(16))!
            let login = Login(rawValue: try r.u32())
            guard login.isClientLogin else { throw WireError(.badValue, "login \(login) cannot be claimed by a client", offset: r.position - 4) }
            let connectionData = try r.u32(), cancelID = try r.u32()
            return .request(id: id, .openSession(uuid: uuid, login: login, connectionData: connectionData, cancelID: cancelID, params: try r.params()))
        case .invoke:
            let session = try r.u32(), command = try r.u32(), cancelID = try r.u32()
            return .request(id: id, .invoke(session: session, command: command, cancelID: cancelID, params: try r.params()))
        case .closeSession:
            let session = try r.u32()
            try r.zero32("close reserved")
            return .request(id: id, .closeSession(session: session))
        case .cancel:
            let cancelID = try r.u32()
            try r.zero32("cancel reserved")
            return .request(id: id, .cancel(cancelID: cancelID))
        case .registerMemory:
            let memory = try r.u32(), flags = try r.u32(), size = try r.u64()
            guard flags & ~3 == 0, flags != 0 else { throw WireError(.badValue, "memory flags \(flags) are not INPUT (1) and/or OUTPUT (2)", offset: 20) }
            guard size <= maxMemorySize else { throw WireError(.badValue, "memory size \(size) is above \(maxMemorySize)", offset: 24) }
            return .request(id: id, .registerMemory(memory: memory, size: size, flags: flags))
        case .unregisterMemory:
            let memory = try r.u32()
            try r.zero32("unregister reserved")
            return .request(id: id, .unregisterMemory(memory: memory))
        case .supplicantReceive:
            let memory = try r.u32()
            try r.zero32("supplicant receive reserved")
            return .request(id: id, .supplicantReceive(memory: memory))
        case .supplicantReply:
            let call = try r.u32(), result = TEEResult(rawValue: try r.u32()), length = try r.u32()
            try r.zero32("supplicant reply reserved")
            return .request(id: id, .supplicantReply(call: call, result: result, outputLength: length))
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        /// Attacker-controlled: only fixed sizes are read, each against the remaining length.
        @inline(__always) mutating func need(_ n: Int) throws(WireError) {
            guard n <= bytes.count - position else { throw WireError(.truncated, "needs \(n) more bytes", offset: position) }
        }
        @inline(__always) mutating func take(_ n: Int) throws(WireError) -> [UInt8] {
            try need(n)
            defer { position += n }
            return Array(bytes[position..<(position + n)])
        }
        /// Whether the next `n` bytes are all zero (read without a copy).
        @inline(__always) mutating func zeros(_ n: Int) throws(WireError) -> Bool {
            try need(n)
            defer { position += n }
            var any: UInt8 = 0
            for i in position..<(position + n) { any |= bytes[i] }
            return any == 0
        }
        @inline(__always) mutating func u16() throws(WireError) -> UInt16 {
            try need(2)
            defer { position += 2 }
            return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
        }
        @inline(__always) mutating func u32() throws(WireError) -> UInt32 {
            try need(4)
            defer { position += 4 }
            return UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16 | UInt32(bytes[position + 3]) << 24
        }
        @inline(__always) mutating func u64() throws(WireError) -> UInt64 { UInt64(try u32()) | UInt64(try u32()) << 32 }
        @inline(__always) mutating func zero32(_ what: String) throws(WireError) {
            guard try u32() == 0 else { throw WireError(.reservedNotZero, "\(what) is not zero", offset: position - 4) }
        }

        mutating func params() throws(WireError) -> WireParameters {
            let typesOffset = position
            let raw = try u32()
            guard let types = ParamTypes(rawValue: raw), types.isTAView else {
                throw WireError(.badParamType, "parameter types \(raw) are not four TA-view types", offset: typesOffset)
            }
            // Attacker-controlled: each parameter's 24 bytes, read against its own type nibble.
            let p0 = try param(types[0], 0), p1 = try param(types[1], 1), p2 = try param(types[2], 2), p3 = try param(types[3], 3)
            return try WireParameters(types: types, params: [p0, p1, p2, p3])
        }

        mutating func param(_ t: ParamType, _ i: Int) throws(WireError) -> WireParameter {
            let start = position
            if t == .none {
                guard try zeros(24) else { throw WireError(.reservedNotZero, "NONE parameter \(i) is not zero", offset: start) }
                return .none
            } else if t.isValue {
                let a = try u32(), b = try u32()
                guard try zeros(16) else { throw WireError(.reservedNotZero, "value parameter \(i) padding is not zero", offset: start + 8) }
                return .value(a: a, b: b)
            }
            let memory = try u32()
            try zero32("memref parameter \(i) reserved")
            let offset = try u64(), size = try u64()
            // Attacker-controlled: offset + size, checked without wrapping.
            guard offset <= maxMemorySize, size <= maxMemorySize - offset else {
                throw WireError(.badValue, "memref parameter \(i) [\(offset), +\(size)) is beyond any shared memory", offset: start + 8)
            }
            return .memref(memory: memory, offset: offset, size: size)
        }
    }
}
