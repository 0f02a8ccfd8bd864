import Foundation
import Logging
import SecureWorld
import TEEInternalAPI

extension FuzzHarnesses {
    /// Trusted storage's object files (format v4, `ObjectFile`). The first byte picks:
    ///
    /// - 0: a header payload (`ObjectHeader.decode`): never traps; what decodes re-encodes to the
    ///   same payload (one spelling).
    /// - 1: an index node (`ObjectFileFormat.checkNode`): never traps; accepted nodes are
    ///   canonical refs.
    /// - 2: a differential run: the rest is a program of writes, truncations and reads on one
    ///   object of a real storage folder, checked against a byte array after every step (the
    ///   tree's inline↔tree changes, holes, shrinking across blocks and nodes). Sizes stay under
    ///   1 MiB, a program under 64 steps.
    public static func storageObject(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        switch mode % 3 {
        case 0:
            let payload = Array((rest + [UInt8](repeating: 0, count: ObjectFileFormat.payloadSize)).prefix(ObjectFileFormat.payloadSize))
            guard let header = try? ObjectHeader.decode(payload) else { return }
            precondition(header.encoded() == payload, "a header has one encoding")
        case 1:
            let payload = Array((rest + [UInt8](repeating: 0, count: ObjectFileFormat.payloadSize)).prefix(ObjectFileFormat.payloadSize))
            guard (try? ObjectFileFormat.checkNode(payload)) != nil else { return }
            for i in 0..<ObjectFileFormat.fanOutCount {
                let slot = payload[i * 17]
                precondition(slot <= 2 && (slot != 0 || payload[(i * 17 + 1)..<(i * 17 + 17)].allSatisfy { $0 == 0 }))
            }
        default:
            differential(rest)
        }
    }

    /// The storage the differential runs use: one state folder per process.
    private static let backend: any TrustedStorageBackend = {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-fuzz-storage-\(getpid())")
        var logger = Logger(label: "fuzz.storage")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        atexit { _ = try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-fuzz-storage-\(getpid())").path) }
        return try! world.storage(for: "f0220000-0000-4000-8000-000000000001")
    }()

    private static func differential(_ program: [UInt8]) {
        let id = Array("fuzzed".utf8)
        var model: [UInt8] = []
        try! backend.store(id, model)
        var at = 0
        func take(_ n: Int) -> Int {
            var v = 0
            for i in 0..<n where at + i < program.count { v |= Int(program[at + i]) << (8 * i) }
            at += n
            return v
        }
        var steps = 0
        while at < program.count, steps < 64 {
            steps += 1
            let op = take(1) % 4
            // Offsets and sizes in 16-byte units up to 1 MiB, and near the format's boundaries.
            func place() -> Int {
                let v = take(2)
                switch v & 3 {
                case 0: return (v >> 2) * 16 % (1 << 20)
                case 1: return ObjectFileFormat.inlineCapacity + (v >> 2) % 64 - 32
                case 2: return ObjectFileFormat.payloadSize * ((v >> 2) % 256) + (v >> 10) % 16 - 8
                default: return ObjectFileFormat.payloadSize * ObjectFileFormat.fanOutCount + (v >> 2) % 64 - 32
                }
            }
            switch op {
            case 0, 1:
                let offset = max(0, place()), count = take(2) % 9000, fill = UInt8(truncatingIfNeeded: steps)
                let data = (0..<count).map { UInt8(truncatingIfNeeded: $0) ^ fill }
                try! backend.write(id, at: offset, data)
                if offset + count > model.count { model += [UInt8](repeating: 0, count: offset + count - model.count) }
                model.replaceSubrange(offset..<offset + count, with: data)
            case 2:
                let size = max(0, place())
                try! backend.truncate(id, to: size)
                if size < model.count { model.removeSubrange(size...) } else { model += [UInt8](repeating: 0, count: size - model.count) }
            default:
                let offset = max(0, place()), count = take(2) % 20000
                let got = try! backend.read(id, at: offset, count: count)
                let want = offset < model.count ? Array(model[offset..<min(model.count, offset + count)]) : []
                precondition(got == want, "read \(count) at \(offset) of \(model.count): \(got.count) bytes, not as written")
            }
            precondition(try! backend.size(id) == model.count, "the size")
        }
        precondition(try! backend.load(id) == model, "the whole record")
        try! backend.delete(id)
    }
}
