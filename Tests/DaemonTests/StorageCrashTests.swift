import Foundation
import HelloWorldTAInterface
import TEEClient
import Testing

/// Trusted storage's crash-point matrix: the daemon is killed (SIGKILL, from inside, at the Nth
/// step of its storage file operations: `RPROC_TEE_STORAGE_CRASH_AT`) in the middle of
/// overwriting an object, of creating one, of renaming one and of deleting one — at every step,
/// until the operation completes without reaching the step. A daemon started again on the same
/// state folder reads the old state or the new one, never a mix and never CORRUPT_OBJECT, and the
/// folder holds no leftover once it has been used.
@Suite(.serialized) struct StorageCrashTests {
    enum Operation: String, CaseIterable {
        case overwrite, create, delete, write
        /// An overwrite with the daemon's roots anchored in an RPMB device (`--rpmb`): one more
        /// step, the device's write, after the root file's.
        case overwriteAnchored
    }

    /// The object `write` changes in place: 9000 bytes (blocks 0–2 of the tree), 300 bytes
    /// written across the boundary of blocks 0 and 1.
    static let large = String(repeating: "o", count: 9000)
    static let patch = String(repeating: "n", count: 300)
    static var patched: String { String(large.prefix(3900)) + patch + String(large.dropFirst(4200)) }

    /// The hello-world TA's store/load (a data object per id).
    static func store(_ s: TEESession, _ id: String, _ value: String) throws {
        try s.invoke(HelloWorldTA.Command.store.rawValue, TEEOperation(.tempInput(Array(id.utf8)), .tempInput(Array(value.utf8))))
    }

    static func load(_ s: TEESession, _ id: String) -> Result<String, TEEResult> {
        let op = TEEOperation(.tempInput(Array(id.utf8)), .tempOutput(capacity: 16384))
        do {
            try s.invoke(HelloWorldTA.Command.load.rawValue, op)
            return .success(String(decoding: op.output(1) ?? [], as: UTF8.self))
        } catch {
            return .failure(error.result)
        }
    }

    @Test(arguments: Operation.allCases)
    func aWriteKilledAtEveryStepLeavesTheOldOrTheNewState(_ operation: Operation) throws {
        var completedAt: Int?
        var kills = 0
        for step in 1...40 where completedAt == nil {
            let directory = try DaemonProcess.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let extra = operation == .overwriteAnchored ? ["--rpmb", directory.appendingPathComponent("rpmb.bin").path] : []
            // The state before: "counter" = "old" (and "other" = "kept", untouched throughout).
            do {
                let d = try DaemonProcess(extra: extra, directory: directory)
                let context = try TEEContext.connect(socket: d.socket)
                let s = try context.openSession(HelloWorldTA.uuid)
                if operation != .create { try Self.store(s, "counter", operation == .write ? Self.large : "old") }
                try Self.store(s, "other", "kept")
                s.close()
                context.finalize()
                _ = d.stop()
            }
            // The operation, with the daemon killed at `step`.
            let crashing = try DaemonProcess(extra: extra, directory: directory, environment: ["RPROC_TEE_STORAGE_CRASH_AT": String(step)])
            var finished = false
            if let context = try? TEEContext.connect(socket: crashing.socket), let s = try? context.openSession(HelloWorldTA.uuid) {
                switch operation {
                case .overwrite, .overwriteAnchored, .create: finished = (try? Self.store(s, "counter", "new")) != nil
                case .delete: finished = (try? s.invoke(HelloWorldTA.Command.delete.rawValue, TEEOperation(.tempInput(Array("counter".utf8))))) != nil
                case .write:
                    let op = TEEOperation(.tempInput(Array("counter".utf8)), .tempInput(Array(Self.patch.utf8)), .valueInput(3900))
                    finished = (try? s.invoke(HelloWorldTA.Command.write.rawValue, op)) != nil
                }
                context.finalize()
            }
            let status = crashing.stop()
            if finished && status == 0 { completedAt = step } else if status == SIGKILL { kills += 1 }
            // Started again: the old state or the new one.
            let d = try DaemonProcess(extra: extra, directory: directory)
            defer { d.cleanUp() }
            let context = try TEEContext.connect(socket: d.socket)
            defer { context.finalize() }
            let s = try context.openSession(HelloWorldTA.uuid)
            let counter = Self.load(s, "counter")
            let allowed: [Result<String, TEEResult>] = switch operation {
            case .overwrite, .overwriteAnchored: [.success("old"), .success("new")]
            case .create: [.failure(.itemNotFound), .success("new")]
            case .delete: [.success("old"), .failure(.itemNotFound)]
            case .write: [.success(Self.large), .success(Self.patched)]
            }
            #expect(allowed.contains(counter), "\(operation) killed at step \(step): \(String(describing: counter).prefix(80))")
            #expect(Self.load(s, "other") == .success("kept"), "\(operation) killed at step \(step)")
            // A further write works, and what the kill left over is gone.
            try Self.store(s, "counter", "after")
            #expect(Self.load(s, "counter") == .success("after"))
            let folder = directory.appendingPathComponent("state/storage/\(HelloWorldTA.uuid)")
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(!left.contains { $0.contains(".tmp-") } && left.filter { $0.hasSuffix(".rpo") }.count == 2,
                    "\(operation) killed at step \(step): \(left)")
        }
        #expect(completedAt != nil, "\(operation) never completed within 40 steps")
        // Each file operation is a step (a slot of the object file, the directory, the root, each
        // before and halfway; a superseded file's removal): at least the directory's and the root's.
        #expect(kills >= 4 && kills == (completedAt ?? 0) - 1, "\(operation): \(kills) kills before it completed at step \(completedAt ?? 0)")
    }
}
