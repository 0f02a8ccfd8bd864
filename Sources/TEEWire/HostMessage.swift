import TEECore

/// A memory reference between the core and a TA host. Client memory never travels in frames:
/// it is mapped (`mapped`: the n-th descriptor the core sent over the host's socket for this
/// call) or, inside a TA's call to another TA, named by the caller's own parameter slot (`ref`).
/// Only memory private to one side (a TA's own buffers, storage data) travels `inline`.
public struct HostMemref: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        case null = 0, inline = 1, mapped = 2, ref = 3
    }
    public var kind: Kind
    /// `mapped`: which descriptor of the call (0-3); `ref`: which parameter of the current call.
    public var slot: UInt8
    /// `mapped`: where the window starts in the region; `ref`: where it starts in the slot's window.
    public var offset: UInt64
    /// The size: the caller's on a request, the one the callee reports on a reply.
    public var size: UInt64
    /// `inline`: the input bytes (request) or the output bytes written (reply).
    public var bytes: [UInt8]

    public init(kind: Kind, slot: UInt8 = 0, offset: UInt64 = 0, size: UInt64, bytes: [UInt8] = []) {
        self.kind = kind
        self.slot = slot
        self.offset = offset
        self.size = size
        self.bytes = bytes
    }
}

public enum HostParameter: Hashable, Sendable {
    case none
    case value(a: UInt32, b: UInt32)
    case memref(HostMemref)
}

/// Four parameters between the core and a TA host, shapes checked against the type nibbles.
public struct HostParameters: Hashable, Sendable {
    public let types: ParamTypes
    public let params: [HostParameter]

    public init(types: ParamTypes, params: [HostParameter]) throws(WireError) {
        guard params.count == 4 else { throw WireError(.badParameter, "four parameters, not \(params.count)") }
        guard types.isTAView else { throw WireError(.badParamType, "parameter types \(types) are not the TA view") }
        for i in 0..<4 {
            switch (types[i], params[i]) {
            case (.none, .none): continue
            case (let t, .value) where t.isValue: continue
            case (let t, .memref) where t.isMemref: continue
            default: throw WireError(.badParameter, "parameter \(i) does not match its type \(types[i])")
            }
        }
        self.types = types
        self.params = params
    }

    public static let none = try! HostParameters(types: .none, params: [.none, .none, .none, .none])
}

/// The trusted-storage operations a TA host asks the core for (the core owns the files and the
/// device secret; a TA reaches only its own objects, as the core decides from which TA it is).
public enum StorageOperation: UInt8, Sendable {
    case load = 1, store = 2, exists = 3, delete = 4, rename = 5, list = 6
    case acquireHandle = 7, releaseHandle = 8, moveHandles = 9, isOpenElsewhere = 10
    /// The TA's persistent time, as an offset in ms from the REE's clock (value: its bits; a
    /// load answers ITEM_NOT_FOUND while none was set).
    case loadTimeOffset = 11, storeTimeOffset = 12
    /// A record by range (`TrustedStorageBackend`): size answers the length in `value`; read
    /// takes the offset in `value` and blobs [id, u64 count] and answers [bytes]; write takes the
    /// offset in `value` and blobs [id, bytes]; truncate the size in `value` and blobs [id].
    case size = 13, read = 14, write = 15, truncate = 16
}

/// The messages between the secure-world core and a TA host process, on the host's link (a
/// shared-memory ring pair). The core sends entry points (`down`) and answers to the host's
/// requests; the host answers with `done`, or asks the core for a service first (`up`). Every
/// frame is `magic, version, kind` and its body; the core decodes the host's frames as hostile.
///
/// ```
/// frame   u32 magic "RTHF", u16 version 1, u16 kind, body
/// params  u32 types, then 4 × (u8 tag: 0 none | 1 value u32 a, u32 b | 2 memref:
///         u8 kind, u8 slot, u64 offset, u64 size, u32 n, n bytes)
/// string / blob   u32 n, n bytes (bounded)
/// ```
public enum HostMessage: Hashable, Sendable {
    // core → host
    case create(uuid: TEEUUID, login: Login, client: TEEUUID, deviceID: TEEUUID)
    /// A native (C) TA: its verified shared object follows on the descriptor socket, then one
    /// descriptor per name of `libraries` (the UUID-named libraries it needs), each a sealed
    /// memfd. `stackSize`/`dataSize` are its ta_head's, as the core checked them.
    case createNative(uuid: TEEUUID, login: Login, client: TEEUUID, deviceID: TEEUUID, stackSize: UInt32, dataSize: UInt32, libraries: [String])
    case open(session: UInt32, login: Login, client: TEEUUID, params: HostParameters)
    case invoke(session: UInt32, login: Login, client: TEEUUID, command: UInt32, params: HostParameters)
    case close(session: UInt32, login: Login, client: TEEUUID)
    case destroy
    /// The answer to the host's last `up` request.
    case reply(result: TEEResult, origin: ReturnOrigin, value: UInt64, params: HostParameters, blobs: [[UInt8]])
    // host → core
    /// The entry point's result and the parameters as the TA left them.
    case done(result: TEEResult, params: HostParameters)
    case panic(code: UInt32, reason: String)
    /// `timeout`: milliseconds until the callee is asked to cancel (0xFFFFFFFF: never).
    case openTA(target: TEEUUID, timeout: UInt32, params: HostParameters)
    case invokeTA(session: UInt32, command: UInt32, timeout: UInt32, params: HostParameters)
    case closeTA(session: UInt32)
    case log(String)
    /// `space`: which of the TA's storages (0 REE file system, 1 RPMB: `StorageSpace`).
    case storage(StorageOperation, space: UInt8 = 0, value: UInt64, blobs: [[UInt8]])
    /// The host could not run the entry point (a window of the call could not be mapped, the
    /// sandbox could not be set up): the call fails with `result`, origin TEE; no TA code ran.
    case unavailable(result: TEEResult)
    /// A native TA dlopens a TA library by its UUID: the core verifies it and, answering
    /// success, has sent its sealed image on the descriptor socket first.
    case loadLibrary(name: String)

    var kind: UInt16 {
        switch self {
        case .create: 1
        case .createNative: 7
        case .open: 2
        case .invoke: 3
        case .close: 4
        case .destroy: 5
        case .reply: 6
        case .done: 0x81
        case .panic: 0x82
        case .openTA: 0x83
        case .invokeTA: 0x84
        case .closeTA: 0x85
        case .log: 0x86
        case .storage: 0x87
        case .unavailable: 0x88
        case .loadLibrary: 0x89
        }
    }

    public static let magic: UInt32 = 0x4648_5452   // "RTHF"
    /// 2: TA-to-TA calls carry their timeout.
    public static let version: UInt16 = 2
    /// The largest frame either side sends (the link's frame areas are this large).
    public static let maxFrameSize = 4 << 20
    /// Longest panic reason or log line.
    public static let maxText = 4096
    /// At most this many blobs in one message (a storage list).
    public static let maxBlobs = 4096
    /// At most this many libraries with a native TA (the host's open broker holds 32 names).
    public static let maxLibraries = 16

    public func encoded() -> [UInt8] {
        var w = HostWriter()
        w.bytes.reserveCapacity(128)
        w.u32(Self.magic); w.u16(Self.version); w.u16(kind)
        switch self {
        case .create(let uuid, let login, let client, let deviceID):
            w.bytes += uuid.octets; w.u32(login.rawValue); w.bytes += client.octets; w.bytes += deviceID.octets
        case .createNative(let uuid, let login, let client, let deviceID, let stackSize, let dataSize, let libraries):
            w.bytes += uuid.octets; w.u32(login.rawValue); w.bytes += client.octets; w.bytes += deviceID.octets
            w.u32(stackSize); w.u32(dataSize); w.blobs(libraries.map { Array($0.utf8) })
        case .open(let session, let login, let client, let params):
            w.u32(session); w.u32(login.rawValue); w.bytes += client.octets; w.params(params)
        case .invoke(let session, let login, let client, let command, let params):
            w.u32(session); w.u32(login.rawValue); w.bytes += client.octets; w.u32(command); w.params(params)
        case .close(let session, let login, let client):
            w.u32(session); w.u32(login.rawValue); w.bytes += client.octets
        case .destroy: break
        case .reply(let result, let origin, let value, let params, let blobs):
            w.u32(result.rawValue); w.u32(origin.rawValue); w.u64(value); w.params(params); w.blobs(blobs)
        case .done(let result, let params):
            w.u32(result.rawValue); w.params(params)
        case .panic(let code, let reason):
            w.u32(code); w.blob(Array(reason.utf8.prefix(Self.maxText)))
        case .openTA(let target, let timeout, let params):
            w.bytes += target.octets; w.u32(timeout); w.params(params)
        case .invokeTA(let session, let command, let timeout, let params):
            w.u32(session); w.u32(command); w.u32(timeout); w.params(params)
        case .closeTA(let session):
            w.u32(session)
        case .log(let text):
            w.blob(Array(text.utf8.prefix(Self.maxText)))
        case .storage(let op, let space, let value, let blobs):
            w.u8(op.rawValue); w.u8(space); w.u64(value); w.blobs(blobs)
        case .unavailable(let result):
            w.u32(result.rawValue)
        case .loadLibrary(let name):
            w.blob(Array(name.utf8.prefix(Self.maxText)))
        }
        return w.bytes
    }

    /// Decodes one frame. Attacker: the other process (for the core, the TA host: a TA may be
    /// malicious or broken and may have written anything into the link).
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Self.maxFrameSize else { throw WireError(.tooLarge, "a host frame of \(bytes.count) bytes is above \(Self.maxFrameSize)") }
        var r = HostReader(bytes: bytes)
        guard try r.u32() == Self.magic else { throw WireError(.badMagic, "not a TA-host frame", offset: 0) }
        guard try r.u16() == Self.version else { throw WireError(.unsupportedVersion, "TA-host frame version", offset: 4) }
        let kind = try r.u16()
        switch kind {
        case 1: self = .create(uuid: try r.uuid(), login: Login(rawValue: try r.u32()), client: try r.uuid(), deviceID: try r.uuid())
        case 7:
            let uuid = try r.uuid(), login = Login(rawValue: try r.u32()), client = try r.uuid(), deviceID = try r.uuid()
            let stackSize = try r.u32(), dataSize = try r.u32()
            let at = r.position
            let names = try r.blobs()
            // Attacker: none in practice (the core sends this), but the decoder is the same for
            // both directions: names are bounded, UUID-shaped text.
            guard names.count <= Self.maxLibraries, names.allSatisfy({ $0.count == 36 && $0.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D } }) else {
                throw WireError(.badValue, "native TA library names", offset: at)
            }
            self = .createNative(uuid: uuid, login: login, client: client, deviceID: deviceID, stackSize: stackSize, dataSize: dataSize,
                                 libraries: names.map { String(decoding: $0, as: UTF8.self) })
        case 2: self = .open(session: try r.u32(), login: Login(rawValue: try r.u32()), client: try r.uuid(), params: try r.params())
        case 3: self = .invoke(session: try r.u32(), login: Login(rawValue: try r.u32()), client: try r.uuid(), command: try r.u32(), params: try r.params())
        case 4: self = .close(session: try r.u32(), login: Login(rawValue: try r.u32()), client: try r.uuid())
        case 5: self = .destroy
        case 6:
            let result = TEEResult(rawValue: try r.u32()), origin = ReturnOrigin(rawValue: try r.u32())
            guard (1...4).contains(origin.rawValue) else { throw WireError(.badValue, "return origin \(origin.rawValue)", offset: r.position - 4) }
            self = .reply(result: result, origin: origin, value: try r.u64(), params: try r.params(), blobs: try r.blobs())
        case 0x81: self = .done(result: TEEResult(rawValue: try r.u32()), params: try r.params())
        case 0x82: self = .panic(code: try r.u32(), reason: try r.text())
        case 0x83: self = .openTA(target: try r.uuid(), timeout: try r.u32(), params: try r.params())
        case 0x84: self = .invokeTA(session: try r.u32(), command: try r.u32(), timeout: try r.u32(), params: try r.params())
        case 0x85: self = .closeTA(session: try r.u32())
        case 0x86: self = .log(try r.text())
        case 0x87:
            let raw = try r.u8()
            guard let op = StorageOperation(rawValue: raw) else { throw WireError(.badValue, "storage operation \(raw)", offset: r.position - 1) }
            self = .storage(op, space: try r.u8(), value: try r.u64(), blobs: try r.blobs())
        case 0x88: self = .unavailable(result: TEEResult(rawValue: try r.u32()))
        case 0x89: self = .loadLibrary(name: try r.text())
        default: throw WireError(.unknownKind, "TA-host message kind \(kind)", offset: 6)
        }
        guard r.position == bytes.count else { throw WireError(.badLength, "\(bytes.count - r.position) bytes after the message", offset: r.position) }
    }
}

private struct HostWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { u32(UInt32(truncatingIfNeeded: v)); u32(UInt32(truncatingIfNeeded: v >> 32)) }
    mutating func blob(_ b: [UInt8]) { u32(UInt32(b.count)); bytes += b }
    mutating func blobs(_ list: [[UInt8]]) { u32(UInt32(list.count)); for b in list { blob(b) } }
    mutating func params(_ p: HostParameters) {
        u32(p.types.rawValue)
        for param in p.params {
            switch param {
            case .none: u8(0)
            case .value(let a, let b): u8(1); u32(a); u32(b)
            case .memref(let m): u8(2); u8(m.kind.rawValue); u8(m.slot); u64(m.offset); u64(m.size); blob(m.bytes)
            }
        }
    }
}

private struct HostReader {
    let bytes: [UInt8]
    var position = 0

    /// Attacker-controlled lengths: every read is checked against what is left.
    mutating func need(_ n: Int) throws(WireError) {
        guard n >= 0, n <= bytes.count - position else { throw WireError(.truncated, "needs \(n) more bytes", offset: position) }
    }
    mutating func take(_ n: Int) throws(WireError) -> [UInt8] {
        try need(n)
        defer { position += n }
        return n == 0 ? [] : Array(bytes[position..<(position + n)])
    }
    // The fixed-size reads index the frame in place: no array per field.
    mutating func u8() throws(WireError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }
    mutating func u16() throws(WireError) -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }
    mutating func u32() throws(WireError) -> UInt32 {
        try need(4)
        defer { position += 4 }
        return UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16 | UInt32(bytes[position + 3]) << 24
    }
    mutating func u64() throws(WireError) -> UInt64 { UInt64(try u32()) | UInt64(try u32()) << 32 }
    mutating func uuid() throws(WireError) -> TEEUUID {
        try need(16)
        defer { position += 16 }
        return bytes.withUnsafeBufferPointer { TEEUUID(octets: UnsafeBufferPointer(rebasing: $0[position..<(position + 16)]))! }
    }
    mutating func blob() throws(WireError) -> [UInt8] {
        let n = try u32()
        guard n <= UInt32(bytes.count - position) else { throw WireError(.truncated, "a \(n)-byte blob past the frame", offset: position - 4) }
        return try take(Int(n))
    }
    mutating func text() throws(WireError) -> String {
        let b = try blob()
        guard b.count <= HostMessage.maxText, let s = String(validating: b, as: UTF8.self) else {
            throw WireError(.badValue, "text of \(b.count) bytes that is not UTF-8 of at most \(HostMessage.maxText) bytes", offset: position)
        }
        return s
    }
    mutating func blobs() throws(WireError) -> [[UInt8]] {
        let n = try u32()
        guard n <= HostMessage.maxBlobs else { throw WireError(.badValue, "\(n) blobs (at most \(HostMessage.maxBlobs))", offset: position - 4) }
        var out: [[UInt8]] = []
        for _ in 0..<n { out.append(try blob()) }
        return out
    }
    mutating func params() throws(WireError) -> HostParameters {
        let raw = try u32()
        guard let types = ParamTypes(rawValue: raw), types.isTAView else { throw WireError(.badParamType, "parameter types \(raw)", offset: position - 4) }
        var params: [HostParameter] = []
        params.reserveCapacity(4)
        for i in 0..<4 {
            switch try u8() {
            case 0: params.append(.none)
            case 1: params.append(.value(a: try u32(), b: try u32()))
            case 2:
                let rawKind = try u8()
                guard let kind = HostMemref.Kind(rawValue: rawKind) else { throw WireError(.badValue, "memref \(i) kind \(rawKind)", offset: position - 1) }
                let slot = try u8()
                guard slot < 4 else { throw WireError(.badValue, "memref \(i) slot \(slot)", offset: position - 1) }
                let offset = try u64(), size = try u64()
                // Attacker-controlled: offset and size, bounded like any shared memory (no wrap).
                guard offset <= WireCodec.maxMemorySize, size <= WireCodec.maxMemorySize - offset else {
                    throw WireError(.badValue, "memref \(i) [\(offset), +\(size)) is beyond any shared memory", offset: position - 16)
                }
                params.append(.memref(HostMemref(kind: kind, slot: slot, offset: offset, size: size, bytes: try blob())))
            case let tag: throw WireError(.badParameter, "parameter \(i) tag \(tag)", offset: position - 1)
            }
        }
        return try HostParameters(types: types, params: params)
    }
}
