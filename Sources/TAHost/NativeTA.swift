#if canImport(Glibc)
import Glibc
#endif
import CTAHostABI
import Foundation
import TEEInternalAPI
import TEETransport

/// libutee.so in this TA host: loaded and bound before the sandbox closes (it is rproc-tee's own
/// code), so that a native TA the core sends later finds the Internal API already there — its
/// DT_NEEDED "libutee.so" is matched by soname, not opened.
enum NativeRuntime {
    /// The environment variable that names libutee.so (the daemon sets it when it serves
    /// native TAs).
    static let libraryKey = "RPROC_TEE_UTEE"

    nonisolated(unsafe) private(set) static var loaded = false
    nonisolated(unsafe) private static var bindFunction: (@convention(c) (UnsafePointer<rproc_tee_utee_ops>?) -> Int32)?
    nonisolated(unsafe) static var setParams: (@convention(c) (UInt32, UnsafeRawPointer?) -> Void)?
    nonisolated(unsafe) static var setTraceLevel: (@convention(c) (Int32) -> Void)?

    /// Loads and binds libutee.so if the daemon named one; false (and a line on stderr, which is
    /// the secure log) if it named one that cannot be loaded.
    static func loadIfNamed() -> Bool {
        guard let path = ProcessInfo.processInfo.environment[libraryKey] else { return true }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            FileHandle.standardError.write(Data("rproc-tee TA host: \(path): \(String(cString: dlerror()))\n".utf8))
            return false
        }
        guard let bind = dlsym(handle, "rproc_tee_utee_bind"), let params = dlsym(handle, "rproc_tee_utee_set_params"),
              let level = dlsym(handle, "trace_set_level") else {
            FileHandle.standardError.write(Data("rproc-tee TA host: \(path) is not rproc-tee's libutee.so\n".utf8))
            return false
        }
        bindFunction = unsafeBitCast(bind, to: (@convention(c) (UnsafePointer<rproc_tee_utee_ops>?) -> Int32).self)
        setParams = unsafeBitCast(params, to: (@convention(c) (UInt32, UnsafeRawPointer?) -> Void).self)
        setTraceLevel = unsafeBitCast(level, to: (@convention(c) (Int32) -> Void).self)
        guard Self.bind(dataSize: 0) else {
            FileHandle.standardError.write(Data("rproc-tee TA host: \(path) is of another ABI than this rproc-tee\n".utf8))
            return false
        }
        loaded = true
        return true
    }

    /// Binds the host's functions; `dataSize` bounds what TEE_Malloc holds (0: unbounded, until
    /// the TA's size is known).
    @discardableResult
    static func bind(dataSize: Int) -> Bool {
        var ops = rproc_tee_utee_ops()
        ops.abi = RPROC_TEE_UTEE_ABI
        ops.size = UInt32(MemoryLayout<rproc_tee_utee_ops>.size)
        ops.data_size = dataSize
        ops.panic = { code, reason in
            let text = reason.map { String(cString: $0) } ?? "TEE_Panic called"
            guard let api = NativeAPI.shared else { _exit(70) }
            api.host.panic(ta: api.tee?.properties ?? TAProperties(uuid: .zero), code: code, reason: text)
        }
        ops.log = { _, text, length in
            guard let text, let api = NativeAPI.shared else { return }
            let line = String(decoding: UnsafeRawBufferPointer(start: text, count: min(length, HostMessageLimits.maxText)), as: UTF8.self)
            api.host.log(ta: api.tee?.properties ?? TAProperties(uuid: .zero), line)
        }
        ops.call = { fn, call in
            guard let call, let api = NativeAPI.shared else { return TEEResult.generic.rawValue }
            return api.call(fn, &call.pointee)
        }
        return withUnsafePointer(to: &ops) { bindFunction?($0) == 0 }
    }
}

enum HostMessageLimits {
    static let maxText = 4000
}

/// A native TA's shared object, loaded through the open broker from the sealed memfd the core
/// verified, and its entry points.
final class NativeImage {
    typealias Create = @convention(c) () -> UInt32
    typealias Destroy = @convention(c) () -> Void
    typealias Open = @convention(c) (UInt32, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> UInt32
    typealias Close = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias Invoke = @convention(c) (UnsafeMutableRawPointer?, UInt32, UInt32, UnsafeMutableRawPointer?) -> UInt32

    let create: Create
    let destroy: Destroy
    let open: Open
    let close: Close
    let invoke: Invoke
    let properties: TAProperties

    /// `dlopen`s the TA (its constructors run, on this thread, inside `tee.enter` so that their
    /// Internal API calls have an instance) and checks what the loader must find. BAD_FORMAT
    /// when it is not a TA of ours: the reason goes to the secure log.
    init(uuid: TEEUUID, stackSize: UInt32, dataSize: UInt32, host: HostProcess) throws(TEEResult) {
        let path = HostSandbox.brokerFolder + "/" + uuid.description
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            host.log(ta: TAProperties(uuid: uuid), "native TA \(uuid): \(String(cString: dlerror()))")
            throw .badFormat
        }
        func symbol(_ name: String) throws(TEEResult) -> UnsafeMutableRawPointer {
            guard let p = dlsym(handle, name) else {
                host.log(ta: TAProperties(uuid: uuid), "native TA \(uuid): no \(name)")
                throw .badFormat
            }
            return p
        }
        let head = try symbol("ta_head")
        guard NativeAPI.cUUID(uuid) == [UInt8](UnsafeRawBufferPointer(start: head, count: 16)) else {
            host.log(ta: TAProperties(uuid: uuid), "native TA \(uuid): its ta_head names another UUID")
            throw .badFormat
        }
        create = unsafeBitCast(try symbol("TA_CreateEntryPoint"), to: Create.self)
        destroy = unsafeBitCast(try symbol("TA_DestroyEntryPoint"), to: Destroy.self)
        open = unsafeBitCast(try symbol("TA_OpenSessionEntryPoint"), to: Open.self)
        close = unsafeBitCast(try symbol("TA_CloseSessionEntryPoint"), to: Close.self)
        invoke = unsafeBitCast(try symbol("TA_InvokeCommandEntryPoint"), to: Invoke.self)
        if let level = dlsym(handle, "trace_level") {
            NativeRuntime.setTraceLevel?(level.load(as: Int32.self))
        }
        var properties = TAProperties(uuid: uuid, dataSize: dataSize, stackSize: stackSize, version: "", description: "")
        if let table = dlsym(handle, "ta_props"), let count = dlsym(handle, "ta_num_props") {
            Self.read(table: table, count: count.load(as: Int.self), into: &properties)
        }
        self.properties = properties
    }

    /// OP-TEE's `struct user_ta_property { const char *name; enum type; const void *value; }`
    /// array. Attacker: the TA (its own table, read in its own process): counts are bounded,
    /// strings are read to their NUL.
    private static func read(table: UnsafeMutableRawPointer, count: Int, into p: inout TAProperties) {
        for i in 0..<min(max(count, 0), 256) {
            let entry = table + 24 * i
            guard let namePointer = entry.load(as: UnsafePointer<CChar>?.self),
                  let value = entry.load(fromByteOffset: 16, as: UnsafeRawPointer?.self) else { continue }
            let name = String(cString: namePointer)
            let parsed: PropertyValue
            switch entry.load(fromByteOffset: 8, as: Int32.self) {
            case 0: parsed = .bool(value.load(as: Bool.self))
            case 1: parsed = .u32(value.loadUnaligned(as: UInt32.self))
            case 2: parsed = .uuid(NativeAPI.uuid([UInt8](UnsafeRawBufferPointer(start: value, count: 16))) ?? .zero)
            case 3:
                let login = Login(rawValue: value.loadUnaligned(as: UInt32.self))
                parsed = .identity(login: login, uuid: NativeAPI.uuid([UInt8](UnsafeRawBufferPointer(start: value + 4, count: 16))) ?? .zero)
            case 4: parsed = .string(String(cString: value.assumingMemoryBound(to: CChar.self)))
            case 5: parsed = .binary(Self.base64Decoded(String(cString: value.assumingMemoryBound(to: CChar.self))) ?? [])
            case 6: parsed = .u64(value.loadUnaligned(as: UInt64.self))
            default: continue
            }
            switch (name, parsed) {
            case ("gpd.ta.singleInstance", .bool(let b)): p.singleInstance = b
            case ("gpd.ta.multiSession", .bool(let b)): p.multiSession = b
            case ("gpd.ta.instanceKeepAlive", .bool(let b)): p.instanceKeepAlive = b
            case ("gpd.ta.version", .string(let s)): p.version = s
            case ("gpd.ta.description", .string(let s)): p.description = s
            case ("gpd.ta.dataSize", _), ("gpd.ta.stackSize", _), ("gpd.ta.endian", _), ("gpd.ta.appID", _): continue
            default: p.extra[name] = parsed
            }
        }
    }

    /// OP-TEE's reading of a binary-block property: base64 whose characters outside the
    /// alphabet are skipped, up to the first '=' ("====" and "-%@&" are empty blocks).
    static func base64Decoded(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var bits: UInt32 = 0, count = 0
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): return out
            default: continue
            }
            bits = bits << 6 | UInt32(v)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        return out
    }
}

/// A native TA's instance: its five entry points called with GP's C parameters, each inside the
/// instance's TEE (so that the Internal API calls it makes are this instance's).
final class NativeEntryPoints: TAEntryPoints {
    let tee: TEE
    let image: NativeImage
    private var contexts: [UInt32: UnsafeMutableRawPointer?] = [:]
    var sessionCount: Int { contexts.count }

    init(tee: TEE, image: NativeImage, client: ClientIdentity) throws(TEEResult) {
        self.tee = tee
        self.image = image
        let create = image.create
        try tee.enter(client: client) { () throws(TEEResult) in
            let result = create()
            guard result == TEEResult.success.rawValue else { throw TEEResult(rawValue: result) }
        }
    }

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        let open = image.open
        var context: UnsafeMutableRawPointer?
        try tee.enter(client: client) { () throws(TEEResult) in
            let result = NativeParams.withC(&params) { types, p in open(types, p, &context) }
            guard result == TEEResult.success.rawValue else { throw TEEResult(rawValue: result) }
        }
        contexts[id] = context
    }

    func closeSession(id: UInt32, client: ClientIdentity) {
        guard let context = contexts.removeValue(forKey: id) else { return }
        let close = image.close
        try? tee.enter(client: client) { () throws(TEEResult) in close(context) }
    }

    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let context = contexts[id] else { throw .badState }
        let invoke = image.invoke
        try tee.enter(client: client) { () throws(TEEResult) in
            let result = NativeParams.withC(&params) { types, p in invoke(context, command, types, p) }
            guard result == TEEResult.success.rawValue else { throw TEEResult(rawValue: result) }
        }
    }

    func destroy() {
        let destroy = image.destroy
        try? tee.enter(client: ClientIdentity(login: .public, uuid: .zero)) { () throws(TEEResult) in destroy() }
        NativeAPI.shared?.closeAll()
    }
}

/// GP's `TEE_Param[4]` for a C entry point or from a C TA's call to another TA.
enum NativeParams {
    static let size = 16 * 4

    /// The client memory the running entry point was given (its windows as mapped here): a
    /// memory reference the TA passes on to another TA that lies inside one travels as a
    /// reference to it — the callee (a pseudo-TA deriving a key, say) then sees that the memory
    /// is the client's, not the TA's own.
    nonisolated(unsafe) static var currentWindows: [(start: UInt, count: Int, window: MappedWindow)] = []

    /// Runs `body` with the parameters as C's TEE_Param[4]: a mapped window is passed as it is
    /// mapped (zero copy), any other memory as a private copy written back afterwards. Values
    /// and sizes the TA left are taken back whatever its result (GP: a SHORT_BUFFER's size).
    static func withC(_ params: inout Parameters, _ body: (UInt32, UnsafeMutableRawPointer) -> UInt32) -> UInt32 {
        // On the stack: a null invoke allocates nothing here.
        withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            withC(&params, at: buffer.baseAddress!, body)
        }
    }

    private static func withC(_ params: inout Parameters, at c: UnsafeMutableRawPointer, _ body: (UInt32, UnsafeMutableRawPointer) -> UInt32) -> UInt32 {
        c.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        var copies: [Int: UnsafeMutableRawPointer] = [:]
        defer {
            for (_, p) in copies { p.deallocate() }
        }
        for i in 0..<4 {
            let slot = c + 16 * i
            switch params[i] {
            case .none: continue
            case .value(let a, let b):
                slot.storeBytes(of: a, as: UInt32.self)
                slot.storeBytes(of: b, toByteOffset: 4, as: UInt32.self)
            case .memref(let m):
                slot.storeBytes(of: UInt(m.capacity), toByteOffset: 8, as: UInt.self)
                let (buffer, offset) = m.backing
                if let window = buffer as? MappedWindow, let base = window.baseAddress {
                    slot.storeBytes(of: base + offset, as: UnsafeMutableRawPointer.self)
                    currentWindows.append((UInt(bitPattern: base), window.count, window))
                } else if let buffer {
                    let copy = UnsafeMutableRawPointer.allocate(byteCount: max(m.capacity, 1), alignment: 16)
                    let bytes = buffer.copyBytes(offset: offset, count: m.capacity)
                    bytes.withUnsafeBytes { if m.capacity > 0 { copy.copyMemory(from: $0.baseAddress!, byteCount: m.capacity) } }
                    copies[i] = copy
                    slot.storeBytes(of: copy, as: UnsafeMutableRawPointer.self)
                }
            }
        }
        NativeRuntime.setParams?(params.types.rawValue, c)
        let result = body(params.types.rawValue, c)
        NativeRuntime.setParams?(0, nil)
        if !currentWindows.isEmpty { currentWindows.removeAll(keepingCapacity: true) }
        for i in 0..<4 {
            let slot = c + 16 * i
            switch params[i] {
            case .none: continue
            case .value:
                if params.types[i].isOutput {
                    params.setValue(i, a: slot.load(as: UInt32.self), b: slot.load(fromByteOffset: 4, as: UInt32.self))
                }
            case .memref(var m):
                guard m.direction.isOutput else { continue }
                // The TA's reported size: any value (a SHORT_BUFFER's need may exceed the capacity).
                let reported = slot.load(fromByteOffset: 8, as: UInt.self)
                m.size = Int(min(reported, UInt(UInt32.max)))
                if let copy = copies[i], let buffer = m.backing.buffer {
                    let n = min(m.size, m.capacity)
                    if n > 0 { buffer.store([UInt8](UnsafeRawBufferPointer(start: copy, count: n)), at: m.backing.offset) }
                }
                params[i] = .memref(m)
            }
        }
        return result
    }

    /// A C TA's parameters for another TA: every memory reference copied (GP's TA-to-TA
    /// semantics; the callee cannot reach the caller's memory). Attacker: the calling TA's
    /// types and sizes (each bounded).
    static func toSwift(types raw: UInt32, _ c: UnsafeMutableRawPointer?, _ function: String) throws(TEEResult) -> Parameters {
        guard let types = ParamTypes(rawValue: raw) else { throw .badParameters }
        var out: [Parameter] = []
        for i in 0..<4 {
            let t = types[i]
            guard t != .none else {
                out.append(.none)
                continue
            }
            guard let slot = c.map({ $0 + 16 * i }) else { throw .badParameters }
            if t.isValue {
                out.append(.value(a: slot.load(as: UInt32.self), b: slot.load(fromByteOffset: 4, as: UInt32.self)))
                continue
            }
            let pointer = slot.load(as: UnsafeMutableRawPointer?.self)
            let size = Int(min(slot.load(fromByteOffset: 8, as: UInt.self), UInt(Int.max)))
            guard size <= NativeAPI.maxInput else { throw .outOfMemory }
            guard let pointer else {
                out.append(.memref(MemoryReference(buffer: nil, offset: 0, size: size, direction: t)))
                continue
            }
            let address = UInt(bitPattern: pointer)
            if let w = currentWindows.first(where: { address >= $0.start && size <= $0.count && address - $0.start <= UInt($0.count - size) }) {
                out.append(.memref(MemoryReference(buffer: w.window, offset: Int(address - w.start), size: size, direction: t)))
                continue
            }
            let bytes = t.isInput && size > 0 ? [UInt8](UnsafeRawBufferPointer(start: pointer, count: size)) : [UInt8](repeating: 0, count: size)
            out.append(.memref(MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: size, direction: t)))
        }
        return Parameters(types: types, params: out)
    }

    /// What the other TA left, back into the calling TA's TEE_Param[4].
    static func back(_ p: Parameters, into c: UnsafeMutableRawPointer?) {
        guard let c else { return }
        for i in 0..<4 {
            let slot = c + 16 * i
            switch p[i] {
            case .none: continue
            case .value(let a, let b):
                guard p.types[i].isOutput else { continue }
                slot.storeBytes(of: a, as: UInt32.self)
                slot.storeBytes(of: b, toByteOffset: 4, as: UInt32.self)
            case .memref(let m):
                guard m.direction.isOutput else { continue }
                let capacity = Int(min(slot.load(fromByteOffset: 8, as: UInt.self), UInt(Int.max)))
                if let pointer = slot.load(as: UnsafeMutableRawPointer?.self), let written = try? m.written() {
                    let n = min(written.count, capacity)
                    if n > 0 { written.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: n) } }
                }
                slot.storeBytes(of: UInt(max(m.size, 0)), toByteOffset: 8, as: UInt.self)
            }
        }
    }
}
