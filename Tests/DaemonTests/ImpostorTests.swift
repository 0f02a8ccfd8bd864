import Foundation
import HelloWorldTAInterface
import TEEClient
import Testing

/// Red-team H3: a client knows it talks to the real TEE. Another local user who creates the
/// socket's folder, owns the socket or serves it is refused, with a reason that says which; the
/// daemon refuses a socket folder others may write; and `--socket-mode`/`--socket-group` are
/// the way to share one daemon between users (their identity still comes from the kernel).
/// Another user needs root to play: these run as root (CI does).
@Suite(.serialized, .enabled(if: geteuid() == 0, "another local user is played by root's setuid")) struct ImpostorTests {
    static let mallory: UInt32 = 65534

    static func refusal(_ socket: String) -> TEEClientError? {
        do {
            let context = try TEEContext.connect(socket: socket)
            context.finalize()
            return nil
        } catch {
            return error
        }
    }

    /// An impostor in each place a client looks: each refused with ACCESS_DENIED, origin COMMS.
    @Test func impostorsAreRefused() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func expectRefused(_ socket: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let error = Self.refusal(socket)
            #expect(error == TEEClientError(.accessDenied, origin: .comms), "\(String(describing: error))", sourceLocation: sourceLocation)
            #expect(error?.reason?.contains(words) == true, "\(String(describing: error?.reason))", sourceLocation: sourceLocation)
        }
        // 1. The folder is another user's (the default-folder squat of the report).
        let theirs = dir.appendingPathComponent("theirs")
        try FileManager.default.createDirectory(at: theirs, withIntermediateDirectories: false)
        chown(theirs.path, Self.mallory, Self.mallory)
        let squat1 = try ClientProcess("squat", socket: theirs.appendingPathComponent("socket").path, [String(Self.mallory)])
        #expect(squat1.line() == "ready")
        expectRefused(theirs.appendingPathComponent("socket").path, "belongs to uid \(Self.mallory)")
        // 2. A trusted folder, the socket another user's.
        let ours = dir.appendingPathComponent("ours")
        try FileManager.default.createDirectory(at: ours, withIntermediateDirectories: false)
        let squat2 = try ClientProcess("squat", socket: ours.appendingPathComponent("s2").path, [String(Self.mallory)])
        #expect(squat2.line() == "ready")
        chown(ours.appendingPathComponent("s2").path, Self.mallory, Self.mallory)
        expectRefused(ours.appendingPathComponent("s2").path, "the socket belongs to uid \(Self.mallory)")
        // 3. Folder and socket root's, the process listening on it another user's.
        let squat3 = try ClientProcess("squat", socket: ours.appendingPathComponent("s3").path, [String(Self.mallory)])
        #expect(squat3.line() == "ready")
        expectRefused(ours.appendingPathComponent("s3").path, "runs as uid \(Self.mallory)")
        // 4. A folder anyone may write (no sticky bit): anyone could have put the socket there.
        let open = dir.appendingPathComponent("open")
        try FileManager.default.createDirectory(at: open, withIntermediateDirectories: false)
        let squat4 = try ClientProcess("squat", socket: open.appendingPathComponent("s4").path)
        #expect(squat4.line() == "ready")
        chmod(open.path, 0o777)
        expectRefused(open.appendingPathComponent("s4").path, "can be written by other users")
        // 5. The folder is a symbolic link.
        let link = dir.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: ours)
        expectRefused(link.path + "/s3", "not a folder")
        // Nothing there at all: ITEM_NOT_FOUND, with the path.
        let none = Self.refusal(ours.appendingPathComponent("nothing").path)
        #expect(none == TEEClientError(.itemNotFound, origin: .comms) && none?.reason?.contains("no secure-world daemon") == true, "\(String(describing: none))")
        for s in [squat1, squat2, squat3, squat4] { s.killHard() }
    }

    /// The daemon refuses a socket folder others may write (they could take its lock or its
    /// socket's name first), and shares itself only as told: with the default mode another
    /// user's client gets ACCESS_DENIED saying why; with --socket-mode 666 it connects and works.
    @Test func theDaemonSharesItselfOnlyAsTold() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        chmod(dir.path, 0o777)
        #expect(throws: DaemonProcess.DaemonError.self) { _ = try DaemonProcess(directory: dir) }
        chmod(dir.path, 0o755)
        let d = try DaemonProcess(directory: dir)
        defer { d.cleanUp() }
        let denied = try ClientProcess("count", socket: d.socket, ["3"], asUID: Self.mallory)
        let line = denied.line()
        #expect(denied.wait() != 0 && line.contains("ACCESS_DENIED") && line.contains("permission denied"), "\(line)")
        let shared = try DaemonProcess(extra: ["--socket-mode", "666"])
        defer { shared.cleanUp() }
        let client = try ClientProcess("count", socket: shared.socket, ["3"], asUID: Self.mallory)
        #expect(client.line() == "ok 3")
        #expect(shared.log.contains("client connected: uid \(Self.mallory)"))
    }
}
