import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `storage_benchmark` TA in Swift, written from what the original
/// (`ta/storage_benchmark/benchmark.c`) does: a persistent object of the client's data size is
/// written chunk by chunk, and one pass over it — read, write or read-and-rewrite
/// of each chunk — is timed with TEE_GetSystemTime; then the object is deleted. Multi-instance
/// (TA_FLAGS 0). Where the original trusts its caller this port does not:
///
/// - the data size is at most `maxDataSize` and the chunk at most `maxChunkSize`, both
///   BAD_PARAMETERS beyond (the original writes whatever a client asks into trusted storage);
/// - the verify pass checks a last chunk shorter than the others (the original's reads a
///   whole chunk there, answers CORRUPT_OBJECT and loops on with its size underflowed);
/// - the timed pass goes through the handle that wrote the object, from position 0 (the
///   original closes it and opens it again), so the object is deleted whatever failed after it
///   was created (the original leaves it when writing it or opening it again fails).
public final class StorageBenchmarkTAImplementation: TrustedApplication {
    /// The original declares 32 KiB of data; a chunk of up to 1 MiB is this port's, and the
    /// storage layer holds the object while it writes it.
    public static let properties = TAProperties(uuid: StorageBenchmarkTA.uuid, dataSize: 36 << 20, stackSize: 32 * 1024,
                                                description: "storage_benchmark (optee_test), trusted storage benchmark")

    private let tee: TEE

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = StorageBenchmarkTA.Command(rawValue: command) else { throw .badParameters }
        try params.require(ParamTypes(.valueInput, .valueInput, .valueOutput))
        let (requestedData, requestedChunk) = params.value(0)
        let verify = params.value(1).a != 0
        // The client's sizes: 0 is the original's default, and both are bounded before
        // anything is allocated or written. Attacker: a client filling the state folder or the
        // TA's memory through a benchmark.
        let dataSize = requestedData == 0 ? 1024 : Int(requestedData)
        let chunkSize = requestedChunk == 0 ? 1024 : Int(requestedChunk)
        guard dataSize <= StorageBenchmarkTA.maxDataSize, chunkSize <= StorageBenchmarkTA.maxChunkSize else {
            tee.log("storage_benchmark: \(dataSize) bytes in chunks of \(chunkSize): over this port's \(StorageBenchmarkTA.maxDataSize) / \(StorageBenchmarkTA.maxChunkSize)")
            throw .badParameters
        }
        let chunk = StorageBenchmarkTA.chunk(chunkSize)
        let storage = try tee.storage
        let id = StorageBenchmarkTA.objectID
        let flags: DataFlags = [.accessRead, .accessWrite, .accessWriteMeta]

        let opened = try storage.create(id, flags: flags.union(.overwrite))
        defer { try? opened.closeAndDelete() }
        try Self.pass(dataSize, chunkSize) { (count) throws(TEEResult) in try opened.write(count == chunkSize ? chunk : Array(chunk.prefix(count))) }
        try opened.seek(0, from: .set)

        let start = tee.systemTime
        switch command {
        case .read:
            try Self.pass(dataSize, chunkSize) { (count) throws(TEEResult) in _ = try opened.read(count) }
        case .write:
            try Self.pass(dataSize, chunkSize) { (count) throws(TEEResult) in try opened.write(count == chunkSize ? chunk : Array(chunk.prefix(count))) }
        case .rewrite:
            try Self.pass(dataSize, chunkSize) { (count) throws(TEEResult) in
                let read = try opened.read(count)
                guard read.count == count else { throw .corruptObject }
                try opened.seek(-count, from: .current)
                try opened.write(read)
            }
        }
        let stop = tee.systemTime
        params.setValue(2, a: (stop.seconds &* 1000 &+ stop.milliseconds) &- (start.seconds &* 1000 &+ start.milliseconds))

        if verify {
            try opened.seek(0, from: .set)
            try Self.pass(dataSize, chunkSize) { (count) throws(TEEResult) in
                guard try opened.read(count) == Array(chunk.prefix(count)) else { throw .corruptObject }
            }
        }
    }

    /// Runs `body` once per chunk of `dataSize` bytes, with the chunk's size (the last may be
    /// shorter).
    private static func pass(_ dataSize: Int, _ chunkSize: Int, _ body: (Int) throws(TEEResult) -> Void) throws(TEEResult) {
        var remaining = dataSize
        while remaining > 0 {
            let count = min(chunkSize, remaining)
            try body(count)
            remaining -= count
        }
    }
}
