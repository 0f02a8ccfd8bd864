import Foundation
import Testing
import TEEEmbedded
import TEEInternalAPI

/// Red-team M3 and L2: a state folder another user could write, a symbolic link where a folder
/// or the device secret should be, and a device secret of the wrong size, owner or mode are
/// refused (trusted storage: STORAGE_NOT_AVAILABLE) — and the secret is never replaced.
@Suite struct StateDirectoryTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        chmod(url.path, 0o700)
        return url
    }

    /// What trusted storage says for a world on `state`.
    static func storageResult(_ state: URL) -> TEEResult {
        do {
            _ = try SecureWorld(stateDirectory: state).storage(for: "8aaaf200-2450-11e4-abe2-0002a5d5c51b")
            return .success
        } catch {
            return error
        }
    }

    @Test func aSafeFolderGetsOneSecretThatStays() throws {
        let state = try Self.folder()
        defer { try? FileManager.default.removeItem(at: state) }
        #expect(Self.storageResult(state) == .success)
        let secret = state.appendingPathComponent("device-secret")
        let first = try Data(contentsOf: secret)
        let attributes = try FileManager.default.attributesOfItem(atPath: secret.path)
        #expect(first.count == 32 && (attributes[.posixPermissions] as? Int) == 0o600)
        #expect(Self.storageResult(state) == .success)
        #expect(try Data(contentsOf: secret) == first, "a second world reads the same secret")
    }

    @Test func unsafeFoldersAreRefused() throws {
        // Writable by others.
        let open = try Self.folder()
        defer { try? FileManager.default.removeItem(at: open) }
        chmod(open.path, 0o777)
        #expect(throws: SecureWorld.StateError.self) { try SecureWorld.checkStateDirectory(open) }
        #expect(Self.storageResult(open) == .storageNotAvailable)
        #expect(!FileManager.default.fileExists(atPath: open.appendingPathComponent("device-secret").path), "no secret was planted")
        // storage/ a symbolic link into someone else's folder.
        let linked = try Self.folder()
        let elsewhere = try Self.folder()
        defer { try? FileManager.default.removeItem(at: linked); try? FileManager.default.removeItem(at: elsewhere) }
        try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("storage"), withDestinationURL: elsewhere)
        #expect(throws: SecureWorld.StateError.self) { try SecureWorld.checkStateDirectory(linked) }
        #expect(Self.storageResult(linked) == .storageNotAvailable)
        // The state folder itself a symbolic link.
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-state-link-\(UUID().uuidString)")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: elsewhere)
        defer { try? FileManager.default.removeItem(at: link) }
        #expect(throws: SecureWorld.StateError.self) { try SecureWorld.checkStateDirectory(link) }
    }

    /// Each bad device secret is refused and left exactly as it was.
    @Test(arguments: ["31 bytes", "33 bytes", "empty", "mode 0644", "a symbolic link", "a folder", "another user's"])
    func aBadDeviceSecretIsRefusedNeverReplaced(_ kind: String) throws {
        guard kind != "another user's" || geteuid() == 0 else { return }   // chown needs root
        let state = try Self.folder()
        defer { try? FileManager.default.removeItem(at: state) }
        let secret = state.appendingPathComponent("device-secret")
        let target = state.appendingPathComponent("elsewhere")
        var content = Data((0..<32).map { UInt8($0) })
        switch kind {
        case "31 bytes": content = content.prefix(31)
        case "33 bytes": content.append(0)
        case "empty": content = Data()
        default: break
        }
        switch kind {
        case "a symbolic link":
            try content.write(to: target)
            chmod(target.path, 0o600)
            try FileManager.default.createSymbolicLink(at: secret, withDestinationURL: target)
        case "a folder":
            try FileManager.default.createDirectory(at: secret, withIntermediateDirectories: false)
        default:
            try content.write(to: secret)
            chmod(secret.path, kind == "mode 0644" ? 0o644 : 0o600)
            if kind == "another user's" { chown(secret.path, 65534, 65534) }
        }
        #expect(Self.storageResult(state) == .storageNotAvailable, "\(kind)")
        if kind == "a folder" {
            var isFolder: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: secret.path, isDirectory: &isFolder) && isFolder.boolValue)
        } else {
            #expect(try Data(contentsOf: secret) == content, "\(kind): the secret is unchanged")
        }
    }
}
