import ArgumentParser
import Foundation
import SecureWorld
import TEEDaemon
import TEETransport

@main
struct RprocTee: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rproc-tee",
        abstract: "A simulated TrustZone secure world with OP-TEE's remoteproc trusted application.",
        discussion: """
            Development keys live in Keys/: they are public and must never sign product firmware.
            Exit codes: 0 success; 1 refused (invalid image, TA refusal); 64 usage; 65 a key or board \
            file that cannot be used; 66 an input that cannot be read; 70 internal error; 73 an \
            output that cannot be written. --json prints one JSON object, also on failure.
            """,
        version: "0.1.0",
        subcommands: [Keygen.self, Sign.self, SignTA.self, Inspect.self, Verify.self, Run.self, Demo.self, Board.self, CoreDumpCommand.self, SecureWorldCommand.self, SupplicantCommand.self]
    )

    /// Refuses arguments that are not UTF-8 before ArgumentParser sees them: Swift would repair
    /// them silently (U+FFFD), and a file name that changed is a different file.
    static func main() {
        // Started by the daemon as a TA host: serve that TA and never come back.
        SecureWorldDaemon.hostTAsIfRequested(SecureWorldCommand.hostedTAs)
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) != nil else {
                printError("rproc-tee: argument \(i) is not valid UTF-8; rproc-tee takes UTF-8 arguments and file names")
                Foundation.exit(ExitStatus.usage.rawValue)
            }
        }
        // `--daemon` may stand without its socket (then the default one): ArgumentParser has no
        // optional option values, so the default is filled in here.
        var arguments = Array(CommandLine.arguments.dropFirst())
        for i in arguments.indices.reversed() where arguments[i] == "--daemon" {
            if i + 1 == arguments.count || arguments[i + 1].hasPrefix("-") {
                arguments.insert(DaemonClientTransport.defaultSocketPath, at: i + 1)
            }
        }
        // `--version` is rproc-tee's own flag; after a subcommand ArgumentParser would still print
        // the version and exit 0 — `sign --version 2.1.0` wrote no image and said nothing wrong.
        if let i = arguments.firstIndex(of: "--version"), i > 0 {
            printError("rproc-tee: --version is not an option of `\(escaped(arguments[0]))` (rproc-tee --version prints the version\(arguments[0] == "sign" ? "; an image's version is --image-version" : ""))")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// `rproc-tee board [NAME]`: the built-in boards, or one of them as JSON (a start for your own).
struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in boards, or print one as a platform JSON file to start your own from.")

    @Argument(help: "A built-in board name (stm32mp15, stm32mp25).") var name: String?

    func run() throws {
        try perform(json: false) {
            guard let name else {
                for board in ["stm32mp15", "stm32mp25"] {
                    let b = try PlatformDescription.builtIn(board)
                    print("\(board)  \(b.description)")
                }
                return
            }
            guard let source = PlatformDescription.builtInSource(name) else {
                throw CLIError(.usage, "no built-in board \"\(escaped(name))\" (built in: stm32mp15, stm32mp25)")
            }
            print(source)
        }
    }
}
