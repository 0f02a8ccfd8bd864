import ArgumentParser
import Foundation
import Synchronization
import TEEClient
import TEEClientC
import TEETransport

/// `rproc-tee supplicant`: OP-TEE's tee-supplicant's plugin service against the daemon.
struct SupplicantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supplicant",
        abstract: "Serve TAs' calls to tee-supplicant plugins (OP-TEE's tee_invoke_supp_plugin) from the normal world.",
        discussion: """
            Loads every file of --plugin-path as a plugin (a shared object exporting `struct plugin_method plugin_method`, declared in tee_plugin_method.h; OP-TEE's plugins build against our headers unmodified), connects to the secure-world daemon and answers the plugin calls its TAs make, until SIGTERM or SIGINT. One supplicant serves a daemon at a time, and only as the daemon's own user or root. Without a supplicant a TA's plugin call fails with COMMUNICATION, as on Linux without tee-supplicant.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The daemon's socket path (default: as clients find it).", valueName: "path")) var socket: String?
    @Option(name: [.customShort("p"), .customLong("plugin-path")], help: ArgumentHelp("Folder of plugins (tee-supplicant's default).", valueName: "dir"))
    var pluginPath = "/usr/lib/tee-supplicant/plugins"
    @Option(name: .customLong("max-data"), help: ArgumentHelp("The most data one call may carry, in KiB (4 to 1024).", valueName: "KiB"))
    var maxData = 1024

    func run() throws {
        try perform(json: false) {
            guard (4...1024).contains(maxData) else { throw CLIError(.usage, "--max-data \(maxData) is not between 4 and 1024 KiB") }
            let plugins = SupplicantPlugins(directory: pluginPath)
            for skipped in plugins.skipped { printError("rproc-tee supplicant: \(escaped(skipped.file)) skipped: \(escaped(skipped.reason))") }
            let path = socket ?? DaemonClientTransport.defaultSocketPath
            let context: TEEContext
            do { context = try TEEContext.connect(socket: path) } catch {
                throw CLIError(.cannotRead, "no secure-world daemon at \(escaped(path))")
            }
            defer { context.finalize() }
            let supplicant: TEESupplicant
            do { supplicant = try TEESupplicant(context: context, capacity: maxData << 10) } catch {
                throw CLIError(.refused, "the daemon refused \(maxData) KiB of shared memory for plugin data: \(error)")
            }
            SupplicantCommand.installStopHandlers()
            print("rproc-tee supplicant: \(plugins.loaded.count) plugin(s) from \(escaped(pluginPath))" + plugins.loaded.map { " \(escaped($0.name)) \($0.uuid)" }.joined(separator: ","))
            fflush(nil)
            do {
                try supplicant.serve(until: { stopFlag.load(ordering: .relaxed) }) { call, memory in plugins.handle(call, memory) }
            } catch {
                throw CLIError(.refused, "the daemon ended the supplicant: \(error)")
            }
        }
    }

    /// SIGTERM and SIGINT end the serving loop (within half a second) instead of the process.
    static func installStopHandlers() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stopFlag.store(true, ordering: .relaxed) }
            source.resume()
            signalSources.withLock { $0.append(source) }
        }
    }
}

private let stopFlag = Atomic<Bool>(false)
/// The signal sources live as long as the process.
private let signalSources = Locked<[any DispatchSourceSignal]>([])
