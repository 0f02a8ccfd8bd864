import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `ta/large` in Swift, written from what the original (`ta/large/ta_entry.c`) does.
/// The original is a C TA with a 1 MiB constant buffer (`{ 1 }`: its first byte 1), so that the
/// TA's image spans several translation tables when OP-TEE loads it; opening a session only keeps
/// a pointer to it (so the linker keeps it), and every command is GENERIC. A Swift TA is code in
/// the TA host's executable, so here the megabyte is the instance's own memory: made when the
/// instance is created, declared in the TA's data size (the TA host's data limit counts it) and
/// checked when a session opens — xtest 1034 then shows that a TA with a megabyte of its own is
/// admitted and served in its own process.
public final class LargeTAImplementation: TrustedApplication {
    public static var properties: TAProperties {
        // The original declares 2 KiB of data and stack (its megabyte is in the image); ours
        // holds the megabyte as data, and Swift frames need more stack than C's.
        TAProperties(uuid: LargeTA.uuid, dataSize: UInt32(LargeTA.bufferSize) + 2 * 1024, stackSize: 8 * 1024, description: "large (optee_test), a megabyte of its own")
    }

    private let buffer: [UInt8]

    public init(tee: TEE) throws(TEEResult) {
        var buffer = [UInt8](repeating: 0, count: LargeTA.bufferSize)
        buffer[0] = 1
        self.buffer = buffer
    }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {
        guard buffer.count == LargeTA.bufferSize, buffer[0] == 1 else { throw .generic }
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        throw .generic
    }
}
