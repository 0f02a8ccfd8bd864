import Foundation
import Logging

/// Prints the secure world's log as OP-TEE's secure console would show it, indented under the
/// normal-world output.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let prefix: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        print("\(prefix)\(event.level >= .warning ? "\(event.level): " : "")\(escaped("\(event.message)"))")
    }
}

func secureLogger(verbose: Bool) -> Logger {
    Logger(label: "rproc-tee.secure-world") { _ in ConsoleLogHandler(logLevel: verbose ? .debug : .info, prefix: "      secure| ") }
}
