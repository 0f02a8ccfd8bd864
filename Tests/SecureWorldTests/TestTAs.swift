import Synchronization
import TEECrypto
import SecureWorld
import TEETransport
import TEEInternalAPI

/// Counts create/destroy entry points per TA type, so tests can see instance lifecycles.
final class Lifecycle: Sendable {
    static let shared = Lifecycle()
    private let counts = Locked<[String: (created: Int, destroyed: Int)]>([:])
    func created(_ name: String) { counts.withLock { $0[name, default: (0, 0)].created += 1 } }
    func destroyed(_ name: String) { counts.withLock { $0[name, default: (0, 0)].destroyed += 1 } }
    func get(_ name: String) -> (created: Int, destroyed: Int) { counts.withLock { $0[name] ?? (0, 0) } }
}

/// Shared behaviour of the flag-variant TAs of xtest 1012: command 0 returns the instance's
/// identity (a number unique per instance) in value a.
class FlagTA {
    static let counter = Atomic<UInt32>(1)
    let instance = FlagTA.counter.wrappingAdd(1, ordering: .relaxed).oldValue
    let name: String
    init(_ name: String) {
        self.name = name
        Lifecycle.shared.created(name)
    }
    func destroyed() { Lifecycle.shared.destroyed(name) }
    func identify(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueOutput))
        params.setValue(0, a: instance)
    }
}

final class SingleSessionTA: FlagTA, TrustedApplication {
    static let properties = TAProperties(uuid: "5b9e0e40-2636-11e1-ad9e-0002a5d5c51b", singleInstance: true, multiSession: false, description: "single instance, single session")
    required init(tee: TEE) throws(TEEResult) { super.init("single-session") }
    func destroy() { destroyed() }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try identify(&params) }
}

final class MultiSessionTA: FlagTA, TrustedApplication {
    static let properties = TAProperties(uuid: "5b9e0e41-2636-11e1-ad9e-0002a5d5c51b", singleInstance: true, multiSession: true, description: "single instance, multi-session")
    required init(tee: TEE) throws(TEEResult) { super.init("multi-session") }
    func destroy() { destroyed() }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try identify(&params) }
}

final class KeepAliveTA: FlagTA, TrustedApplication {
    static let properties = TAProperties(uuid: "5b9e0e42-2636-11e1-ad9e-0002a5d5c51b", singleInstance: true, multiSession: true, instanceKeepAlive: true, description: "keep-alive")
    required init(tee: TEE) throws(TEEResult) { super.init("keep-alive") }
    func destroy() { destroyed() }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try identify(&params) }
}

final class MultiInstanceTA: FlagTA, TrustedApplication {
    static let properties = TAProperties(uuid: "5b9e0e43-2636-11e1-ad9e-0002a5d5c51b", description: "one instance per session")
    required init(tee: TEE) throws(TEEResult) { super.init("multi-instance") }
    func destroy() { destroyed() }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try identify(&params) }
}

/// A TA that refuses sessions unless value a of p0 is 42, and keeps per-session state.
final class GatekeeperTA: TrustedApplication {
    static let properties = TAProperties(uuid: "d17f73a0-36ef-11e1-984a-0002a5d5c51b", singleInstance: true, multiSession: true, description: "gatekeeper")
    init(tee: TEE) throws(TEEResult) {}
    final class Session { var calls: UInt32 = 0 }
    func openSession(_ params: inout Parameters) throws(TEEResult) -> Session {
        try params.require(ParamTypes(.valueInput))
        guard params.value(0).a == 42 else { throw .accessDenied }
        return Session()
    }
    func closeSession(_ session: Session) {}
    func invoke(_ session: Session, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        session.calls += 1
        try params.require(ParamTypes(.valueOutput))
        params.setValue(0, a: session.calls)
    }
}

/// xtest's os_test memref commands: echo, fill, report sizes, access-rights checks, identity,
/// properties, TA-to-TA calls.
final class MemrefTA: TrustedApplication {
    static let properties = TAProperties(uuid: "cb3e5ba0-adf1-11e0-998b-0002a5d5c51b", singleInstance: true, multiSession: true,
                                         version: "2.1", description: "memref and properties test TA", extra: ["com.example.answer": .u32(42)])
    enum Cmd: UInt32 {
        case reverse = 0        // [in] memref, [out] memref: input reversed
        case fill = 1           // [in] value a = count, b = byte; [out] memref (SHORT_BUFFER if count > size)
        case sizes = 2          // [in] memref (may be NULL), [out] value: a = size, b = isNull
        case checkAccess = 3    // [in] value a = flags, [inout] memref
        case clientIdentity = 4 // [out] value: a = login, b = first word of uuid
        case property = 5       // [in] memref name, [out] memref string value
        case callHelloWorld = 6 // [inout] value: opens a session to HelloWorld, increments a through it
        case callPseudo = 7     // [in] value a = which PTA uuid index; opens and invokes a pseudo-TA
    }
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }

    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let cmd = Cmd(rawValue: command) else { throw .notSupported }
        switch cmd {
        case .reverse:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let input = try params.memref(0).read()
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(input.reversed()) }
        case .fill:
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            let (count, byte) = params.value(0)
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write([UInt8](repeating: UInt8(truncatingIfNeeded: byte), count: Int(count))) }
        case .sizes:
            try params.require(ParamTypes(.memrefInput, .valueOutput))
            let m = params.memref(0)
            params.setValue(1, a: UInt32(m.capacity), b: m.isNull ? 1 : 0)
        case .checkAccess:
            try params.require(ParamTypes(.valueInput, .memrefInout))
            try params.memref(1).checkAccessRights(params.value(0).a)
        case .clientIdentity:
            try params.require(ParamTypes(.valueOutput))
            let identity = try tee.properties(.currentClient).identity("gpd.client.identity")
            params.setValue(0, a: identity.login.rawValue, b: identity.uuid.timeLow)
        case .property:
            try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput))
            let name = String(decoding: try params.memref(0).read(), as: UTF8.self)
            let set: PropertySet = [.currentTA, .currentClient, .implementation][Int(params.value(2).a) % 3]
            let text = try tee.properties(set).string(name)
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(Array(text.utf8)) }
        case .callHelloWorld:
            try params.require(ParamTypes(.valueInout))
            var inner = Parameters(types: ParamTypes(.valueInout), params: [.value(a: params.value(0).a, b: 0), .none, .none, .none])
            var none = Parameters.empty
            do throws(TEEError) {
                let session = try tee.openSession("8aaaf200-2450-11e4-abe2-0002a5d5c51b", &none)
                defer { session.close() }
                try session.invoke(0, &inner)
            } catch {
                throw error.result
            }
            params.setValue(0, a: inner.value(0).a)
        case .callPseudo:
            try params.require(ParamTypes(.valueInout))
            var inner = Parameters(types: ParamTypes(.valueInout), params: [.value(a: params.value(0).a, b: 0), .none, .none, .none])
            var none = Parameters.empty
            do throws(TEEError) {
                let session = try tee.openSession(EchoPseudoTA.uuidConstant, &none)
                defer { session.close() }
                try session.invoke(1, &inner)
            } catch {
                throw error.result
            }
            params.setValue(0, a: inner.value(0).a)
        }
    }
}


/// A pseudo-TA only MemrefTA may open: command 1 doubles value a and reports the caller.
final class EchoPseudoTA: PseudoTA {
    static let uuidConstant: TEEUUID = "a4f5c6d7-0000-4000-8000-000000000001"
    let uuid = EchoPseudoTA.uuidConstant
    let name = "echo.pta"
    let allowedCallers: Set<TEEUUID>? = [MemrefTA.properties.uuid]
    func invoke(client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard command == 1 else { throw .notSupported }
        try params.require(ParamTypes(.valueInout))
        params.setValue(0, a: params.value(0).a &* 2, b: client.login.rawValue)
    }
}
