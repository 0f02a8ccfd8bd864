import Foundation
import TEECore
import TEEWire
import Testing
import TestSupport

/// The frames between the core and a TA host (TEEWire's HostMessage): one encoding per message,
/// and every malformed frame a hostile TA host could write refused with a specific error.
@Suite struct HostMessageTests {
    static let client: TEEUUID = "0a0b0c0d-0e0f-4011-8213-141516171819"
    static let params = try! HostParameters(types: ParamTypes(.memrefInput, .valueInout, .memrefOutput, .none), params: [
        .memref(HostMemref(kind: .mapped, slot: 0, offset: 4096, size: 100)),
        .value(a: 7, b: 9),
        .memref(HostMemref(kind: .inline, size: 3, bytes: [1, 2, 3])),
        .none,
    ])

    /// One of each message: the fuzzer's seeds (Tests/Fuzz/Seeds/host-frame) are these frames.
    static let samples: [(String, HostMessage)] = [
        ("create", .create(uuid: "c7a5e0d4-6b1f-4e8a-9d3c-5f2a1b0e9c41", login: .user, client: client, deviceID: .zero)),
        ("open", .open(session: 3, login: .public, client: .zero, params: params)),
        ("invoke", .invoke(session: 3, login: .public, client: .zero, command: 5, params: params)),
        ("close", .close(session: 3, login: .public, client: .zero)),
        ("destroy", .destroy),
        ("reply", .reply(result: .shortBuffer, origin: .trustedApp, value: 1 << 40, params: params, blobs: [[1], [], [2, 3]])),
        ("done", .done(result: .success, params: params)),
        ("panic", .panic(code: 0xBAD0_0001, reason: "panic reason")),
        ("open-ta", .openTA(target: client, timeout: 0xFFFF_FFFF, params: .none)),
        ("invoke-ta", .invokeTA(session: 9, command: 1, timeout: 250, params: params)),
        ("close-ta", .closeTA(session: 9)),
        ("log", .log("a line")),
        ("storage", .storage(.store, value: 0, blobs: [Array("id".utf8), [0, 1, 2]])),
        ("unavailable", .unavailable(result: .outOfMemory)),
        ("create-native", .createNative(uuid: "c7a5e0d4-6b1f-4e8a-9d3c-5f2a1b0e9c41", login: .public, client: .zero, deviceID: client,
                                        stackSize: 6144, dataSize: 32768, libraries: ["ffd2bded-ab7d-4988-95ee-e4962fff7154"])),
        ("load-library", .loadLibrary(name: "b3091a65-9751-4784-abf7-0298a7cc35ba")),
    ]

    @Test func everyMessageRoundTrips() throws {
        for (name, message) in Self.samples {
            let bytes = message.encoded()
            #expect(try HostMessage(decoding: bytes) == message, "\(name)")
        }
    }

    @Test func hostileFramesAreRefused() throws {
        let done = HostMessage.done(result: .success, params: Self.params).encoded()
        func code(_ bytes: [UInt8]) -> WireError.Code? {
            do { _ = try HostMessage(decoding: bytes); return nil } catch { return error.code }
        }
        var badMagic = done; badMagic[0] ^= 1
        #expect(code(badMagic) == .badMagic)
        var badVersion = done; badVersion[4] = 1   // the version before TA-to-TA timeouts
        #expect(code(badVersion) == .unsupportedVersion)
        var unknown = done; unknown[6] = 0x99
        #expect(code(unknown) == .unknownKind)
        #expect(code(Array(done.dropLast())) == .truncated)
        #expect(code(done + [0]) == .badLength)
        #expect(code([UInt8](repeating: 0, count: HostMessage.maxFrameSize + 1)) == .tooLarge)
        // The memref's slot (a descriptor or parameter index) is below 4.
        var slot = HostMessage.done(result: .success, params: try HostParameters(types: ParamTypes(.memrefInput), params: [
            .memref(HostMemref(kind: .ref, slot: 0, size: 1)), .none, .none, .none])).encoded()
        let slotOffset = 4 + 2 + 2 + 4 + 4 + 1 + 1
        #expect(slot[slotOffset] == 0)
        slot[slotOffset] = 4
        #expect(code(slot) == .badValue)
        // A blob longer than the frame, a blob count above the bound, a text that is not UTF-8.
        var log = HostMessage.log("abc").encoded()
        log[8] = 0xFF
        #expect(code(log) == .truncated)
        let manyBlobs = [0x52, 0x54, 0x48, 0x46, 2, 0, 0x87, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0] as [UInt8]
        #expect(code(manyBlobs) == .badValue)
        var text = HostMessage.log("abc").encoded()
        text[12] = 0xFF
        #expect(code(text) == .badValue)
        // A native TA's library names: UUIDs only (they become paths in the host's open broker).
        let sneaky = HostMessage.createNative(uuid: Self.client, login: .public, client: .zero, deviceID: .zero, stackSize: 1, dataSize: 1,
                                              libraries: ["../../../../etc/passwd-xxxxxxxxxxxxxxxxxxxxxxx"]).encoded()
        #expect(code(sneaky) == .badValue)
        // A parameter whose shape does not match its type nibble.
        var shape = HostMessage.done(result: .success, params: try HostParameters(types: ParamTypes(.valueInput), params: [
            .value(a: 1, b: 2), .none, .none, .none])).encoded()
        shape[8 + 4] = 0x05   // types: MEMREF_INPUT in slot 0, but the body holds a value
        #expect(code(shape) == .badParameter)
        // A memref past any shared memory.
        var far = Self.params
        far = try HostParameters(types: ParamTypes(.memrefInput), params: [.memref(HostMemref(kind: .mapped, offset: WireCodec.maxMemorySize, size: 1)), .none, .none, .none])
        #expect(code(HostMessage.done(result: .success, params: far).encoded()) == .badValue)
    }

    /// The fuzzer's seeds and crashers replayed through the harness's check.
    @Test func fuzzSeedsAndFailCasesReplay() throws {
        let seeds = Repository.root.appendingPathComponent("Tests/Fuzz/Seeds/host-frame")
        if ProcessInfo.processInfo.environment["RPROC_TEE_WRITE_SEEDS"] == "1" {
            for (name, message) in Self.samples { try Data(message.encoded()).write(to: seeds.appendingPathComponent(name + ".bin")) }
        }
        var count = 0
        for kind in ["Seeds", "FailCases"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/host-frame")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix(".") {
                let bytes = Array(try Data(contentsOf: dir.appendingPathComponent(name)))
                let message = try? HostMessage(decoding: bytes)
                if let message { #expect(message.encoded() == bytes, "\(kind)/\(name)") }
                if kind == "Seeds" { #expect(message != nil, "seed \(name) decodes") }
                count += 1
            }
        }
        #expect(count >= Self.samples.count)
    }
}
