import ArgumentParser
import FirmwareImage
import Foundation
import HelloWorldTA
import IsolationTestTA
import TEEInternalAPI
import RemoteProcTA
import SecureWorld
import OPTEEExamples
import OPTEETestTAs
import Logging
import TEEDaemon
import TEEEmbedded
import TEETransport
import TEECrypto

/// `rproc-tee secure-world`: the secure world as a daemon in the foreground.
struct SecureWorldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secure-world",
        abstract: "Run the secure world as a daemon that clients in other processes connect to.",
        discussion: """
            Serves the remoteproc TA (with the platform pseudo-TA for --board and the normal world's bus to it) the hello-world TA and the ports of OP-TEE's example TAs (random, secure_storage, aes, ecdsa, sign_verify, hotp, acipher, ecdh, sha, plugins) over a Unix socket; clients use TEEContext.connect (Swift) or `rproc-tee run --daemon`; `rproc-tee supplicant` serves TAs' calls to tee-supplicant plugins. Stops cleanly on SIGTERM or SIGINT: sessions closed, client memory unmapped, socket removed.
            The socket: --socket, else $RPROC_TEE_SOCKET, else $XDG_RUNTIME_DIR/rproc-tee.sock, else /run/rproc-tee/socket for root, else /tmp/rproc-tee-$UID/socket (in a 0700 folder the daemon makes). Only processes of the --kernel-uid users (default: root and this user) may log in as the normal-world kernel (REE_KERNEL), which the remoteproc TA requires.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Socket path.", valueName: "path")) var socket: String?
    @OptionGroup var board: BoardOptions
    @Option(name: .customLong("kernel-uid"), help: ArgumentHelp("A uid whose processes play the normal-world kernel. Repeatable.", valueName: "uid"))
    var kernelUIDs: [UInt32] = []
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Flag(name: .customLong("no-isolation"), help: "Run every TA in the daemon's own process (a TA panic then ends the daemon). For debugging and comparisons.")
    var noIsolation = false
    @Flag(name: .customLong("exit-with-parent"), help: "Shut down cleanly (as on SIGTERM) when the process that started the daemon ends: for test runners and tools that start their own daemon.")
    var exitWithParent = false
    @Flag(name: .customLong("test-tas"), help: "Also serve the test TAs: the crash-test TAs (TAs that die on request, to see and test TA isolation) and the ports of optee_test's TAs that xtest drives (crypt, storage, os_test, sims, concurrent, supp_plugin, …).")
    var testTAs = false
    @Option(name: .customLong("max-ta-processes"), help: ArgumentHelp("TA host processes alive at most, 2 ready ones included (3 to 4096).", valueName: "N"))
    var maxTAProcesses = 128
    @Option(name: .customLong("max-regions"), help: ArgumentHelp("Shared-memory regions mapped for all clients together (16 to 65536; also kept below the open-file limit).", valueName: "N"))
    var maxRegions = 16384
    @Option(name: .customLong("ta-user"), help: ArgumentHelp("The user TA host processes run as: a name, or uid[:gid] (default when the daemon runs as root: nobody; hosts never run as root).", valueName: "user"))
    var taUser: String?
    @Option(name: .customLong("socket-mode"), help: ArgumentHelp("The socket's permissions in octal (default 600: only this user and root connect; 660 with --socket-group shares the daemon with a group).", valueName: "mode"))
    var socketMode: String?
    @Option(name: .customLong("socket-group"), help: ArgumentHelp("The socket's group: a name or a gid (with --socket-mode 660: its members may connect).", valueName: "group"))
    var socketGroup: String?
    @Option(name: .customLong("max-threads"), help: ArgumentHelp("Threads serving clients in all, one per connection and one per channel (8 to 65536; past it a client's extra calls wait for a channel it has).", valueName: "N"))
    var maxThreads = 1024
    @Option(name: .customLong("ta-dir"), help: ArgumentHelp("A folder of native (C) TAs, <uuid>.ta files built with the TA dev kit, served for UUIDs no built-in TA has. Repeatable; searched in order (default: PREFIX/lib/optee_armtz of an installed kit, where tee-supplicant's path would be).", valueName: "dir"))
    var taDirs: [String] = []
    @Option(name: .customLong("ta-key"), help: ArgumentHelp("A public key (PEM) that signs native TAs. Repeatable (default: the kit's development key, PREFIX/export-ta_x86_64/keys/default_ta.pub.pem — for development only).", valueName: "file"))
    var taKeys: [String] = []
    @Option(name: .customLong("ta-enc-key"), help: ArgumentHelp("The TA encryption key (a file of 64 hex digits or 32 bytes) that decrypts encrypted native TAs (CFG_ENCRYPT_TA, sign-ta --enc-key), for both key types (default: the kit's development key, PREFIX/export-ta_x86_64/keys/default_ta_enc.key).", valueName: "file"))
    var taEncKey: String?
    @Flag(name: .customLong("ta-dir-first"), help: "Serve a UUID from --ta-dir even when a built-in TA has it (OP-TEE's own example and test TAs in place of rproc-tee's Swift ports).")
    var taDirFirst = false
    @Option(name: .customLong("ta-debug"), help: ArgumentHelp("Start this native TA's host debuggable and stopped before the TA is loaded, and log how to attach gdb (repeatable). The one relaxation of that host's sandbox: processes of its user may ptrace it.", valueName: "uuid"))
    var taDebug: [String] = []
    @Option(name: .customLong("ta-preload"), help: ArgumentHelp("A library every TA host loads first (LD_PRELOAD): the runtime of a sanitizer C TAs are built with, e.g. $(gcc -print-file-name=libasan.so) for -fsanitize=address, libubsan.so for -fsanitize=undefined (ASan's first). Repeatable.", valueName: "file"))
    var taPreload: [String] = []
    @Option(name: .customLong("ta-coverage"), help: ArgumentHelp("A folder where native TAs built with --coverage write their gcov data when their instance ends: each .gcda at <dir>/<the object's path>, as GCOV_PREFIX places it. TA hosts may then create .gcda files there (and nothing else).", valueName: "dir"))
    var taCoverage: String?
    @Option(name: .customLong("libutee"), help: ArgumentHelp("The kit's libutee.so that TA hosts load for native TAs (default: PREFIX/export-ta_x86_64/lib/libutee.so).", valueName: "file"))
    var libutee: String?
    @Option(name: .customLong("rpmb"), help: ArgumentHelp("An emulated eMMC RPMB partition in this file (created on first use; its key is programmed once, from the device secret): it anchors trusted storage's roots, so that restoring the whole --state folder is CORRUPT_OBJECT while the file is not restored with it, and it serves TEE_STORAGE_PRIVATE_RPMB. Keep it outside the state folder.", valueName: "file"))
    var rpmbFile: String?

    @Option(name: .customLong("shm-limit"), help: ArgumentHelp("Shared memory one client connection may map, in MiB (1 to 4096).", valueName: "MiB"))
    var sharedMemoryLimit = 4096

    /// The TAs the daemon serves (the remoteproc TA is registered with its platform).
    static var servedTAs: [any TrustedApplication.Type] {
        [HelloWorld.self, RandomExample.self, SecureStorageExample.self, AESExample.self, ECDSAExample.self,
         SignVerifyExample.self, HOTPExample.self, ACipherExample.self, ECDHExample.self, SHAExample.self, PluginsExample.self]
    }
    static var testTAs: [any TrustedApplication.Type] { [CrashTestTA.self, KeepAliveCrashTestTA.self, CryptTAImplementation.self, SIMSTestTA.self, SIMSKeepAliveTestTA.self, MISSTestTA.self, ConcurrentTestTA.self, ConcurrentLargeTestTA.self, OSTestTAImplementation.self, CreateFailTestTAImplementation.self, RPCTestTAImplementation.self, StorageTAImplementation.self, Storage2TAImplementation.self, SupplicantPluginTAImplementation.self, LargeTAImplementation.self, CryptoPerfTAImplementation.self, StorageBenchmarkTAImplementation.self] }
    /// Every TA a TA host started from this executable can be.
    static var hostedTAs: [any TrustedApplication.Type] { [RemoteProcessorTA.self] + servedTAs + testTAs }

    /// The native TA store, if there are TA folders (given, or the installed kit's default).
    private func nativeTAs(logger: Logger) throws -> NativeTAStore? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
        let kit = prefix.appendingPathComponent("export-ta_x86_64")
        var folders = taDirs
        if folders.isEmpty {
            let installed = prefix.appendingPathComponent("lib/optee_armtz").path
            guard FileManager.default.fileExists(atPath: installed), !taKeys.isEmpty || FileManager.default.fileExists(atPath: kit.path) else { return nil }
            folders = [installed]
        }
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError(.usage, "--ta-dir \(escaped(folder)) is not a folder")
            }
        }
        let runtime = libutee ?? kit.appendingPathComponent("lib/libutee.so").path
        guard FileManager.default.isReadableFile(atPath: runtime) else {
            throw CLIError(.usage, "native TAs need the kit's libutee.so: \(escaped(runtime)) cannot be read (make install, or --libutee FILE)")
        }
        var keys: [PublicKey] = []
        if taKeys.isEmpty {
            let development = kit.appendingPathComponent("keys/default_ta.pub.pem").path
            guard FileManager.default.fileExists(atPath: development) else {
                throw CLIError(.usage, "native TAs need a TA-signing key: --ta-key PUB.pem (the kit's development key \(escaped(development)) is not there)")
            }
            keys.append(try Files.publicKey(development, option: "the kit's development key"))
            logger.warning("native TAs are verified with the kit's DEVELOPMENT key (\(development)): anyone with the kit can sign a TA this daemon runs; pass --ta-key for your own")
        } else {
            for file in taKeys { keys.append(try Files.publicKey(file, option: "--ta-key")) }
        }
        return NativeTAStore(folders: folders.map { URL(fileURLWithPath: $0) }, keys: keys, runtimeLibrary: runtime,
                             encryptionKey: try taEncryptionKey(kit: kit, logger: logger))
    }

    /// --ta-enc-key's key (or the kit's development one, said so in the log; nil without either).
    /// Never logged; an all-zero key refused.
    private func taEncryptionKey(kit: URL, logger: Logger) throws -> SecureBytes? {
        let development = kit.appendingPathComponent("keys/default_ta_enc.key").path
        guard let file = taEncKey ?? (FileManager.default.fileExists(atPath: development) ? development : nil) else { return nil }
        var bytes = try Files.read(file, limit: 256, what: "TA encryption key")
        defer { for i in bytes.indices { bytes[i] = 0 } }
        var key: [UInt8]
        if bytes.count == SignedTA.Encryption.keySize {
            key = bytes
        } else if let hex = hexBytes(String(decoding: bytes, as: UTF8.self)), hex.count == SignedTA.Encryption.keySize {
            key = hex
        } else {
            throw CLIError(.badInput, "\(escaped(file)): a TA encryption key is 64 hex digits or 32 bytes")
        }
        guard key.contains(where: { $0 != 0 }) else { throw CLIError(.badInput, "\(escaped(file)): an all-zero TA encryption key") }
        if taEncKey == nil {
            logger.warning("encrypted native TAs are decrypted with the kit's DEVELOPMENT key (\(development)): it is public; pass --ta-enc-key for your own")
        }
        return SecureBytes(consuming: &key)
    }

    func run() throws {
        try perform(json: false) {
            guard let level = Logger.Level(rawValue: logLevel) else { throw CLIError(.usage, "--log-level \(escaped(logLevel)) is not a log level") }
            guard (1...4096).contains(sharedMemoryLimit) else { throw CLIError(.usage, "--shm-limit \(sharedMemoryLimit) is not between 1 and 4096 MiB") }
            let platform = try board.platform()
            let state = try StateDirectory(board.state)
            defer { state.cleanUp() }
            let bucket = RateLimitedLogHandler.Bucket(rate: 200, burst: 2000)
            var logger = Logger(label: "rproc-tee.secure-world") { label in RateLimitedLogHandler(inner: StreamLogHandler.standardError(label: label), bucket: bucket) }
            logger.logLevel = level
            if board.state == nil {
                logger.warning("no --state: trusted storage and the anti-rollback counters live in a temporary folder and die with this daemon (a rolled-back image boots after a restart); pass --state DIR to keep them")
            }
            let world = SecureWorld.remoteproc(platform: platform, stateDirectory: state.url, logger: logger)
            for ta in Self.servedTAs { world.register(ta) }
            if testTAs { for ta in Self.testTAs { world.register(ta) } }
            if let rpmbFile {
                do {
                    world.rpmb = try EmulatedRPMB(file: URL(fileURLWithPath: rpmbFile))
                } catch {
                    throw CLIError(.usage, "--rpmb \(escaped(rpmbFile)): not an emulated RPMB device, and not creatable as one (\(error))")
                }
                if URL(fileURLWithPath: rpmbFile).standardizedFileURL.path.hasPrefix(state.url.standardizedFileURL.path + "/") {
                    logger.warning("--rpmb \(rpmbFile) lies inside the state folder: restoring the folder restores the device with it, and a rollback goes unseen")
                }
            }
            var configuration = SecureWorldDaemon.Configuration(socketPath: socket ?? DaemonClientTransport.defaultSocketPath)
            if !kernelUIDs.isEmpty { configuration.kernelUIDs = Set(kernelUIDs) }
            configuration.limits.bytesPerConnection = UInt64(sharedMemoryLimit) << 20
            configuration.isolateTAs = !noIsolation
            if let socketMode {
                guard let mode = UInt32(socketMode, radix: 8), mode & ~0o666 == 0, mode & 0o600 == 0o600 else {
                    throw CLIError(.usage, "--socket-mode \(escaped(socketMode)) is not an octal mode of read-write bits with the owner's set (600, 660, 666)")
                }
                configuration.socketMode = mode
            }
            if let socketGroup {
                guard let gid = SecureWorldDaemon.group(named: socketGroup) ?? UInt32(socketGroup) else {
                    throw CLIError(.usage, "--socket-group \(escaped(socketGroup)) is neither a group nor a gid")
                }
                configuration.socketGroup = gid
            }
            if let taUser {
                if let named = SecureWorldDaemon.user(named: taUser) {
                    configuration.hostUser = named
                } else {
                    let parts = taUser.split(separator: ":", omittingEmptySubsequences: false)
                    guard (1...2).contains(parts.count), let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                        throw CLIError(.usage, "--ta-user \(escaped(taUser)) is neither a user nor uid[:gid]")
                    }
                    configuration.hostUser = (uid, parts.count == 2 ? UInt32(parts[1])! : uid)
                }
                guard configuration.hostUser?.uid != 0 else { throw CLIError(.usage, "--ta-user: TA hosts never run as root") }
            }
            configuration.nativeTAs = try nativeTAs(logger: logger)
            configuration.nativeFirst = taDirFirst
            for file in taPreload {
                guard FileManager.default.isReadableFile(atPath: file) else { throw CLIError(.usage, "--ta-preload \(escaped(file)) cannot be read") }
                // LD_PRELOAD's separators; a relative name would be searched for.
                guard file.hasPrefix("/"), !file.contains(":"), !file.contains(" ") else {
                    throw CLIError(.usage, "--ta-preload \(escaped(file)): an absolute path without ':' or spaces")
                }
            }
            configuration.hostPreloads = taPreload
            if let folder = taCoverage {
                let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder), isFolder.boolValue else {
                    throw CLIError(.usage, "--ta-coverage \(escaped(folder)) is not a folder")
                }
                configuration.coverageFolder = absolute
            }
            for text in taDebug {
                guard let uuid = TEEUUID(text) else { throw CLIError(.usage, "--ta-debug \(escaped(text)) is not a UUID") }
                guard configuration.nativeTAs != nil else { throw CLIError(.usage, "--ta-debug needs native TAs (--ta-dir)") }
                configuration.debuggedTAs.insert(uuid)
            }
            configuration.exitWithParent = exitWithParent
            guard (3...4096).contains(maxTAProcesses) else { throw CLIError(.usage, "--max-ta-processes \(maxTAProcesses) is not between 3 and 4096") }
            configuration.maxHosts = maxTAProcesses
            guard (16...65536).contains(maxRegions) else { throw CLIError(.usage, "--max-regions \(maxRegions) is not between 16 and 65536") }
            configuration.limits.regionsInAll = maxRegions
            guard (8...65536).contains(maxThreads) else { throw CLIError(.usage, "--max-threads \(maxThreads) is not between 8 and 65536") }
            configuration.limits.serverThreads = maxThreads
            let daemon = SecureWorldDaemon(world: world, configuration: configuration, logger: logger)
            do {
                try daemon.run { path in
                    print("rproc-tee secure-world: \(escaped(platform.board.name)), listening on \(escaped(path))")
                    fflush(nil)
                }
            } catch let error as SecureWorldDaemon.StartError {
                throw CLIError(.cannotWrite, error.description)
            }
        }
    }
}
