import Foundation
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEEEmbedded

/// The SIMS TA port as xtest 1012 drives it: what one session writes, every later session of the
/// single instance reads; each session keeps the instance's session count from when it opened;
/// bad buckets and short buffers are refused; a session opened to another TA is kept and closed.
@Suite struct SIMSTATests {
    static func context() -> TEEContext {
        let world = SecureWorld()
        world.register(SIMSTestTA.self)
        world.register(MISSTestTA.self)
        return TEEContext.embedded(world)
    }

    func counter(_ s: TEESession) throws -> UInt32? {
        let op = TEEOperation(.valueOutput)
        try s.invoke(SIMSTA.Command.getCounter.rawValue, op)
        return op.value(0)?.a
    }

    @Test func singleInstanceSharesBucketsAndCountsSessions() throws {
        let context = Self.context()
        defer { context.finalize() }
        let data = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 3) }
        let first = try context.openSession(SIMSTA.uuid)
        try first.invoke(SIMSTA.Command.write.rawValue, TEEOperation(.valueInput(0), .tempInput(data)))
        for i in 1..<3 {
            let other = try context.openSession(SIMSTA.uuid)
            let read = TEEOperation(.valueInput(0), .tempOutput(capacity: 32))
            try other.invoke(SIMSTA.Command.read.rawValue, read)
            #expect(read.output(1) == data, "session \(i) reads what the first wrote")
            #expect(try counter(first) == 0)
            #expect(try counter(other) == UInt32(i))
            other.close()
        }
        #expect(clientError { () throws(TEEClientError) in try first.invoke(SIMSTA.Command.read.rawValue, TEEOperation(.valueInput(4), .tempOutput(capacity: 32))) }?.result == .badParameters, "bucket 4")
        #expect(clientError { () throws(TEEClientError) in try first.invoke(SIMSTA.Command.read.rawValue, TEEOperation(.valueInput(0), .tempOutput(capacity: 31))) }?.result == .overflow, "a short buffer")
        #expect(clientError { () throws(TEEClientError) in try first.invoke(99, TEEOperation()) }?.result == .badParameters)
        // A session to another TA, named by a C TEE_UUID (little-endian fields): the count moves.
        let u = SIMSTA.multiInstanceUUID
        let cUUID = u.cLayout
        try first.invoke(SIMSTA.Command.openTASession.rawValue, TEEOperation(.tempInput(cUUID)))
        #expect(try counter(first) == 1)
        #expect(clientError { () throws(TEEClientError) in try first.invoke(SIMSTA.Command.openTASession.rawValue, TEEOperation(.tempInput(Array(cUUID.prefix(15))))) }?.result == .badParameters)
        first.close()
    }

    @Test func multiInstanceTwinHasAnInstancePerSession() throws {
        let context = Self.context()
        defer { context.finalize() }
        let a = try context.openSession(SIMSTA.multiInstanceUUID), b = try context.openSession(SIMSTA.multiInstanceUUID)
        try a.invoke(SIMSTA.Command.write.rawValue, TEEOperation(.valueInput(1), .tempInput([1, 2, 3])))
        let read = TEEOperation(.valueInput(1), .tempOutput(capacity: 8))
        try b.invoke(SIMSTA.Command.read.rawValue, read)
        #expect(read.output(1) == [], "another instance, empty buckets")
        #expect(try counter(a) == 0 && counter(b) == 0)
    }
}
