import Foundation
import Testing
import TestSupport
import TEECore
@testable import TEEWire

@Suite struct WireCodecTests {
    static let params = try! WireParameters(types: ParamTypes(.valueInout, .memrefInput, .memrefOutput, .none),
                                             params: [.value(a: 1, b: 2), .memref(memory: 3, offset: 16, size: 32), .memref(memory: 0, offset: 0, size: 8), .none])

    static let messages: [WireMessage] = [
        .request(id: 1, .openSession(uuid: "80a4c275-0a47-4905-8285-1486a9771a08", login: .reeKernel, connectionData: 5, cancelID: 9, params: params)),
        .request(id: 2, .invoke(session: 7, command: 0x1234, cancelID: 3, params: params)),
        .request(id: 3, .closeSession(session: 7)),
        .request(id: 4, .cancel(cancelID: 3)),
        .request(id: 5, .registerMemory(memory: 11, size: 4096, flags: 3)),
        .request(id: 6, .unregisterMemory(memory: 11)),
        .response(id: 2, kind: 2, WireResponse(result: .shortBuffer, origin: .trustedApp, session: 0, params: params)),
        .response(id: 0, kind: 0, WireResponse(result: .communication, origin: .comms)),
        .request(id: 7, .supplicantReceive(memory: 12)),
        .request(id: 8, .supplicantReply(call: 3, result: .itemNotFound, outputLength: 18)),
    ]

    @Test(arguments: messages)
    func roundTrip(_ message: WireMessage) throws {
        let bytes = WireCodec.encode(message)
        #expect(bytes.count <= WireCodec.maxFrameSize)
        #expect(try WireCodec.decode(bytes) == message)
    }

    @Test func layoutIsLittleEndianAndFixed() {
        let bytes = WireCodec.encode(.request(id: 0x0102_0304, .closeSession(session: 0xAABB_CCDD)))
        #expect(bytes == [0x52, 0x50, 0x54, 0x57, 1, 0, 3, 0, 4, 3, 2, 1, 0, 0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA, 0, 0, 0, 0])
        #expect(WireCodec.encode(Self.messages[0]).count == 16 + 128)
        #expect(WireCodec.encode(Self.messages[1]).count == 16 + 112)
        #expect(WireCodec.encode(Self.messages[9]) == [0x52, 0x50, 0x54, 0x57, 1, 0, 8, 0, 8, 0, 0, 0, 0, 0, 0, 0,
                                                       3, 0, 0, 0, 0x08, 0, 0xFF, 0xFF, 18, 0, 0, 0, 0, 0, 0, 0])
    }

    /// The secure world's direct response writer and the message encoder agree byte for byte.
    @Test func directResponseEncodingIsTheSame() throws {
        let response = WireResponse(result: .shortBuffer, origin: .trustedApp, session: 7, params: Self.params)
        let direct = WireCodec.encodeResponse(id: 2, kind: 2, result: response.result, origin: response.origin, session: 7, types: Self.params.types) { Self.params.params[$0] }
        #expect(direct == WireCodec.encode(.response(id: 2, kind: 2, response)))
        #expect(try WireCodec.decode(direct) == .response(id: 2, kind: 2, response))
    }

    /// A channel encodes every frame into one kept buffer: whatever the buffer held before — a
    /// frame of another size, or one of the same size full of 0xFF — the bytes are exactly a fresh
    /// encoding's (reserved words and padding zero again).
    @Test func encodingIntoAKeptBufferIsTheSame() throws {
        var kept: [UInt8] = []
        for message in Self.messages + Self.messages.reversed() {
            WireCodec.encode(message, into: &kept)
            #expect(kept == WireCodec.encode(message))
            for i in kept.indices { kept[i] = 0xFF }
            WireCodec.encode(message, into: &kept)
            #expect(kept == WireCodec.encode(message), "over a same-size buffer of 0xFF")
        }
        let response = WireResponse(result: .success, origin: .trustedApp, session: 7, params: Self.params)
        var reply = [UInt8](repeating: 0xFF, count: 16 + 112)
        WireCodec.encodeResponse(id: 2, kind: 2, result: .success, origin: .trustedApp, session: 7, types: Self.params.types, into: &reply) { Self.params.params[$0] }
        #expect(reply == WireCodec.encode(.response(id: 2, kind: 2, response)))
    }

    /// Each entry damages a valid frame one way and expects one specific refusal.
    @Test func malformedFramesAreRefused() {
        let invoke = WireCodec.encode(Self.messages[1])
        let open = WireCodec.encode(Self.messages[0])
        let register = WireCodec.encode(Self.messages[4])
        func damaged(_ base: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = base
            edit(&b)
            return b
        }
        func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        let cases: [(String, [UInt8], WireError.Code)] = [
            ("empty", [], .truncated),
            ("header only", Array(invoke.prefix(16)), .badLength),
            ("too large", invoke + [UInt8](repeating: 0, count: 300), .tooLarge),
            ("magic", damaged(invoke) { $0[0] ^= 1 }, .badMagic),
            ("version", damaged(invoke) { $0[4] = 2 }, .unsupportedVersion),
            ("unknown kind", damaged(invoke) { $0[6] = 9 }, .unknownKind),
            ("refused kind as a request", damaged(invoke) { $0[6] = 0 }, .unknownKind),
            ("header reserved", damaged(invoke) { $0[12] = 1 }, .reservedNotZero),
            ("one byte short", Array(invoke.dropLast()), .badLength),
            ("one byte long", invoke + [0], .badLength),
            ("param type nibble 4", damaged(invoke) { put32(&$0, 16 + 12, 0x0004) }, .badParamType),
            ("registered-memory type on the wire", damaged(invoke) { put32(&$0, 16 + 12, 0x000C) }, .badParamType),
            ("upper param type bits", damaged(invoke) { put32(&$0, 16 + 12, 0x1_0653) }, .badParamType),
            ("value padding", damaged(invoke) { $0[16 + 16 + 10] = 1 }, .reservedNotZero),
            ("none parameter not zero", damaged(invoke) { $0[16 + 16 + 72 + 3] = 1 }, .reservedNotZero),
            ("memref reserved", damaged(invoke) { $0[16 + 16 + 24 + 4] = 1 }, .reservedNotZero),
            ("memref past any memory", damaged(invoke) { put32(&$0, 16 + 16 + 24 + 12, 0x4000_0000) }, .badValue),
            ("memref offset + size overflow", damaged(invoke) { for i in 0..<8 { $0[16 + 16 + 24 + 8 + i] = 0xFF; $0[16 + 16 + 24 + 16 + i] = 0xFF } }, .badValue),
            ("client claims TRUSTED_APP", damaged(open) { put32(&$0, 16 + 16, 0xF000_0000) }, .badValue),
            ("memory flags zero", damaged(register) { put32(&$0, 20, 0) }, .badValue),
            ("memory flags unknown", damaged(register) { put32(&$0, 20, 4) }, .badValue),
            ("memory size above the cap", damaged(register) { put32(&$0, 28, 1) }, .badValue),
            ("response origin 0", damaged(WireCodec.encode(Self.messages[6])) { put32(&$0, 20, 0) }, .badValue),
            ("supplicant receive reserved", damaged(WireCodec.encode(Self.messages[8])) { $0[20] = 1 }, .reservedNotZero),
            ("supplicant reply reserved", damaged(WireCodec.encode(Self.messages[9])) { $0[28] = 1 }, .reservedNotZero),
            ("supplicant reply short", Array(WireCodec.encode(Self.messages[9]).dropLast(4)), .badLength),
        ]
        for (name, bytes, code) in cases {
            do {
                _ = try WireCodec.decode(bytes)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.code == code, "\(name): \(error)")
            }
        }
    }

    @Test func parametersMustMatchTheirTypes() {
        #expect(throws: WireError.self) { try WireParameters(types: ParamTypes(.valueInput), params: [.none, .none, .none, .none]) }
        #expect(throws: WireError.self) { try WireParameters(types: ParamTypes(.memrefInput), params: [.value(a: 0, b: 0), .none, .none, .none]) }
        #expect(throws: WireError.self) { try WireParameters(types: .none, params: [.none]) }
    }
}

extension WireMessage: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .request(_, let r): "\(r)".prefix(40).description
        case .response(_, let kind, _): "response \(kind)"
        }
    }
}

/// Replays the wire fuzzer's seeds and crashers through the harness's check.
@Suite struct WireFuzzRegressionTests {
    @Test func replay() throws {
        var count = 0
        for kind in ["Seeds", "FailCases"] {
            let dir = Repository.root.appendingPathComponent("Tests/Fuzz/\(kind)/wire")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix(".") {
                let bytes = Array(try Data(contentsOf: dir.appendingPathComponent(name)))
                if let message = try? WireCodec.decode(bytes) {
                    #expect(WireCodec.encode(message) == bytes, "\(kind)/\(name)")
                }
                count += 1
            }
        }
        #expect(count >= 7)
        // Every seed is a valid frame.
        let seeds = Repository.root.appendingPathComponent("Tests/Fuzz/Seeds/wire")
        for name in try FileManager.default.contentsOfDirectory(atPath: seeds.path) {
            #expect((try? WireCodec.decode(Array(try Data(contentsOf: seeds.appendingPathComponent(name))))) != nil, "\(name)")
        }
    }
}
