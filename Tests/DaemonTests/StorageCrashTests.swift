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
        case overwrite, create, delete
    }

    /// The hello-world TA's store/load (a data object per id).
    static func store(_ s: TEESession, _ id: String, _ value: String) throws {
        try s.invoke(HelloWorldTA.Command.store.rawValue, TEEOperation(.tempInput(Array(id.utf8)), .tempInput(Array(value.utf8))))
    }

    static func load(_ s: TEESession, _ id: String) -> Result<String, TEEResult> {
        let op = TEEOperation(.tempInput(Array(id.utf8)), .tempOutput(capacity: 64))
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
            // The state before: "counter" = "old" (and "other" = "kept", untouched throughout).
            do {
                let d = try DaemonProcess(directory: directory)
                let context = try TEEContext.connect(socket: d.socket)
                let s = try context.openSession(HelloWorldTA.uuid)
                if operation != .create { try Self.store(s, "counter", "old") }
                try Self.store(s, "other", "kept")
                s.close()
                context.finalize()
                _ = d.stop()
            }
            // The operation, with the daemon killed at `step`.
            let crashing = try DaemonProcess(directory: directory, environment: ["RPROC_TEE_STORAGE_CRASH_AT": String(step)])
            var finished = false
            if let context = try? TEEContext.connect(socket: crashing.socket), let s = try? context.openSession(HelloWorldTA.uuid) {
                switch operation {
                case .overwrite, .create: finished = (try? Self.store(s, "counter", "new")) != nil
                case .delete: finished = (try? s.invoke(HelloWorldTA.Command.delete.rawValue, TEEOperation(.tempInput(Array("counter".utf8))))) != nil
                }
                context.finalize()
            }
            let status = crashing.stop()
            if finished && status == 0 { completedAt = step } else if status == SIGKILL { kills += 1 }
            // Started again: the old state or the new one.
            let d = try DaemonProcess(directory: directory)
            defer { d.cleanUp() }
            let context = try TEEContext.connect(socket: d.socket)
            defer { context.finalize() }
            let s = try context.openSession(HelloWorldTA.uuid)
            let counter = Self.load(s, "counter")
            let allowed: [Result<String, TEEResult>] = switch operation {
            case .overwrite: [.success("old"), .success("new")]
            case .create: [.failure(.itemNotFound), .success("new")]
            case .delete: [.success("old"), .failure(.itemNotFound)]
            }
            #expect(allowed.contains(counter), "\(operation) killed at step \(step): \(counter)")
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
        // Each file operation is a step: at least a temporary file, its rename and the directory's.
        #expect(kills >= 6 && kills == (completedAt ?? 0) - 1, "\(operation): \(kills) kills before it completed at step \(completedAt ?? 0)")
    }
}
