import HelloWorldTAInterface
import Testing
import TEEEmbedded
import TEETransport
import TEEWire

/// xtest 1018 / 1025: memory references — bounds, NULL and zero-size buffers, directions,
/// copy-back rules.
@Suite struct MemrefTests {
    @Test func tempBuffersInAndOut() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        let op = TEEOperation(.tempInput([1, 2, 3, 4]), .tempOutput(capacity: 10))
        try s.invoke(MemrefTA.Cmd.reverse.rawValue, op)
        #expect(op.output(1) == [4, 3, 2, 1])
        #expect(op.size(1) == 4)
    }

    /// SHORT_BUFFER: the size is reported, the data is not copied back when it does not fit.
    @Test func shortBufferReportsSizeWithoutData() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        let op = TEEOperation(.valueInput(100, 0xAB), .tempOutput(capacity: 10))
        #expect(clientError { () throws(TEEClientError) in try s.invoke(MemrefTA.Cmd.fill.rawValue, op) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(op.size(1) == 100)
        #expect(op.output(1).map { $0.allSatisfy { $0 == 0 } } ?? true, "no data copied into the too-small buffer")
        // Retry with the size the TA asked for.
        let retry = TEEOperation(.valueInput(100, 0xAB), .tempOutput(capacity: op.size(1)!))
        try s.invoke(MemrefTA.Cmd.fill.rawValue, retry)
        #expect(retry.output(1) == [UInt8](repeating: 0xAB, count: 100))
    }

    @Test func nullAndZeroSizeBuffers() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        // NULL buffer with size 0 and with a size: the TA sees a NULL reference and the size.
        for size in [0, 64] {
            let op = TEEOperation(.temp(.memrefInput, bytes: nil, size: size), .valueOutput)
            try s.invoke(MemrefTA.Cmd.sizes.rawValue, op)
            #expect(op.value(1)?.a == UInt32(size))
            #expect(op.value(1)?.b == 1)
        }
        // A zero-size, non-NULL buffer.
        let zero = TEEOperation(.tempInput([]), .valueOutput)
        try s.invoke(MemrefTA.Cmd.sizes.rawValue, zero)
        #expect(zero.value(1)?.a == 0 && zero.value(1)?.b == 0)
        // Size probe through a NULL output buffer: SHORT_BUFFER with the needed size.
        let probe = TEEOperation(.valueInput(33, 1), .temp(.memrefOutput, bytes: nil, size: 0))
        #expect(clientError { () throws(TEEClientError) in try s.invoke(MemrefTA.Cmd.fill.rawValue, probe) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(probe.size(1) == 33)
    }

    @Test func registeredMemoryWholeAndPartial() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        let input = try h.context.registerSharedMemory(Array(0..<16), flags: .input)
        let output = try h.context.allocateSharedMemory(size: 32, flags: [.input, .output])
        // Whole input → partial output window.
        let op = TEEOperation(.whole(input), .partial(.memrefPartialOutput, output, offset: 8, size: 16))
        try s.invoke(MemrefTA.Cmd.reverse.rawValue, op)
        #expect(try output.read(offset: 8, count: 16) == Array((0..<16).reversed()))
        #expect(try output.read(offset: 0, count: 8) == [UInt8](repeating: 0, count: 8), "nothing written outside the window")
        // Partial input window.
        let window = TEEOperation(.partial(.memrefPartialInput, input, offset: 4, size: 4), .tempOutput(capacity: 4))
        try s.invoke(MemrefTA.Cmd.reverse.rawValue, window)
        #expect(window.output(1) == [7, 6, 5, 4])
    }

    @Test func outOfBoundsAndWrongDirectionsAreRefusedByTheAPI() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        let input = try h.context.registerSharedMemory(Array(0..<16), flags: .input)
        let apiError = TEEClientError(.badParameters, origin: .api)
        let cases: [(String, TEEOperation)] = [
            ("offset past the end", TEEOperation(.partial(.memrefPartialInput, input, offset: 17, size: 0), .tempOutput(capacity: 4))),
            ("size past the end", TEEOperation(.partial(.memrefPartialInput, input, offset: 8, size: 9), .tempOutput(capacity: 4))),
            ("offset + size overflows", TEEOperation(.partial(.memrefPartialInput, input, offset: Int.max, size: Int.max), .tempOutput(capacity: 4))),
            ("negative offset", TEEOperation(.partial(.memrefPartialInput, input, offset: -1, size: 4), .tempOutput(capacity: 4))),
            ("output window on input-only memory", TEEOperation(.tempInput([1]), .partial(.memrefPartialOutput, input, offset: 0, size: 4))),
            ("a temp type given as partial", TEEOperation(.partial(.memrefInput, input, offset: 0, size: 4), .tempOutput(capacity: 4))),
            ("temp size larger than its bytes", TEEOperation(.temp(.memrefInput, bytes: [1, 2], size: 8), .tempOutput(capacity: 4))),
        ]
        for (name, op) in cases {
            #expect(clientError { () throws(TEEClientError) in try s.invoke(MemrefTA.Cmd.reverse.rawValue, op) } == apiError, "\(name)")
        }
        // Memory of another context.
        let other = TEEContext.embedded(h.world)
        defer { other.finalize() }
        let foreign = try other.registerSharedMemory([1, 2, 3], flags: .input)
        #expect(clientError { () throws(TEEClientError) in try s.invoke(MemrefTA.Cmd.reverse.rawValue, TEEOperation(.whole(foreign), .tempOutput(capacity: 3))) } == apiError)
    }

    @Test func accessRightsRequireAnyOwnerForClientMemory() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        func check(_ flags: UInt32) -> TEEClientError? {
            clientError { () throws(TEEClientError) in try s.invoke(MemrefTA.Cmd.checkAccess.rawValue, TEEOperation(.valueInput(flags), .tempInout([1, 2, 3]))) }
        }
        #expect(check(0x1 | 0x4) == nil)          // READ | ANY_OWNER
        #expect(check(0x1 | 0x2 | 0x4) == nil)    // READ | WRITE | ANY_OWNER
        #expect(check(0x1) == TEEClientError(.accessDenied, origin: .trustedApp), "client memory without ANY_OWNER: GP's ACCESS_DENIED")
        #expect(check(0x8) == TEEClientError(.badParameters, origin: .trustedApp), "unknown flag")
        let inputOnly = clientError { () throws(TEEClientError) in
            try s.invoke(MemrefTA.Cmd.checkAccess.rawValue, TEEOperation(.valueInput(0x2 | 0x4), .tempInput([1])))
        }
        #expect(inputOnly == TEEClientError(.badParameters, origin: .trustedApp), "wrong param types for the command")
    }

    /// A forged frame naming memory that was never registered, or a window past its end, is
    /// refused by the secure world itself (origin TEE), whatever the client library checks.
    @Test func secureWorldChecksMemoryItself() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let transport = InProcessTransport(endpoint: h.world)
        defer { transport.close() }
        func send(_ request: WireRequest) throws -> WireResponse {
            guard case .response(_, _, let r) = try WireCodec.decode(h.world.handle(WireCodec.encode(.request(id: 7, request)), memory: transport.memory)) else {
                throw TEEClientError(.generic, origin: .comms)
            }
            return r
        }
        let open = try send(.openSession(uuid: MemrefTA.properties.uuid, login: .public, connectionData: 0, cancelID: 0, params: .none))
        #expect(open.result == .success)
        let region = try transport.createRegion(count: 8, flags: 1)
        let params = { (memory: UInt32, offset: UInt64, size: UInt64) in
            try WireParameters(types: ParamTypes(.memrefInput, .valueOutput), params: [.memref(memory: memory, offset: offset, size: size), .value(a: 0, b: 0), .none, .none])
        }
        #expect(try send(.invoke(session: open.session, command: 2, cancelID: 0, params: params(region.id, 0, 8))).result == .success)
        for (memory, offset, size) in [(UInt32(999), UInt64(0), UInt64(4)), (region.id, 4, 5), (region.id, 9, 0)] {
            let r = try send(.invoke(session: open.session, command: 2, cancelID: 0, params: params(memory, offset, size)))
            #expect(r.result == .badParameters && r.origin == .tee, "memory \(memory) [\(offset), +\(size))")
        }
        // Output direction on input-only memory.
        let outParams = try WireParameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(memory: region.id, offset: 0, size: 4), .memref(memory: region.id, offset: 0, size: 4), .none, .none])
        let r = try send(.invoke(session: open.session, command: 0, cancelID: 0, params: outParams))
        #expect(r.result == .badParameters && r.origin == .tee)
        // Another connection's session.
        let other = InProcessTransport(endpoint: h.world)
        defer { other.close() }
        let stolen = WireCodec.encode(.request(id: 8, .invoke(session: open.session, command: 2, cancelID: 0, params: try params(region.id, 0, 8))))
        guard case .response(_, _, let foreign)? = try? WireCodec.decode(h.world.handle(stolen, memory: other.memory)) else { Issue.record("no reply"); return }
        #expect(foreign.result == .badParameters && foreign.origin == .tee)
        // A malformed frame: COMMUNICATION.
        guard case .response(_, _, let bad)? = try? WireCodec.decode(h.world.handle([1, 2, 3], memory: transport.memory)) else { Issue.record("no reply"); return }
        #expect(bad.result == .communication)
    }

    /// The hello-world TA's sum reads a reference in place, 64 bytes a step into 16-bit lanes
    /// flushed every 64 steps: every byte counted once — sizes around a step and a flush, a
    /// tail, all-0xFF bytes (the lanes' worst case: a flush one step later overflows them) — through a mapping (registered memory, read
    /// in place) and through the embedded transport's locked memory (allocated, lent as a copy).
    @Test func sumReadsEveryByteAcrossChunks() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(HelloWorldTA.uuid)
        for size in [0, 1, 63, 64, 65, 2047, 2048, 2049, 4095, 4096, 4097, 4160, 8191, 65_536, 200_001] { for pattern in [false, true] { for registered in [false, true] {
            let bytes = (0..<size).map { pattern ? UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) : 0xFF }
            let shm: SharedMemory
            if registered {
                shm = try h.context.registerSharedMemory(bytes, flags: .input)
            } else {
                shm = try h.context.allocateSharedMemory(size: size, flags: .input)
                try shm.write(bytes)
            }
            let op = TEEOperation(.whole(shm), .valueOutput)
            try s.invoke(HelloWorldTA.Command.sum.rawValue, op)
            #expect(op.value(1)?.a == bytes.reduce(UInt32(0)) { $0 &+ UInt32($1) }, "sum of \(size) bytes, \(pattern ? "patterned" : "0xFF"), \(registered ? "registered" : "allocated")")
            #expect(op.value(1)?.b == UInt32(size))
        } } }
    }
}
