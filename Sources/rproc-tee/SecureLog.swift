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

/// The daemon's log with a budget (red-team M4: a client that repeats a refused request, or
/// opens sessions without end, must not grow the log without bound): a token bucket of `rate`
/// lines a second with a burst of `burst`; lines over it are dropped and counted, and the count
/// is said in one line once the budget allows again. `Logger` copies handlers: the bucket is a
/// shared object.
struct RateLimitedLogHandler: LogHandler {
    final class Bucket: @unchecked Sendable {
        // @unchecked: every field is behind `lock`.
        private let lock = NSLock()
        private var tokens: Double
        private var last = Date()
        private var dropped = 0
        let rate: Double, burst: Double

        init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
            tokens = burst
        }

        /// Whether a line may be written now, and how many were dropped before it.
        func take() -> (allowed: Bool, droppedBefore: Int) {
            lock.withLock {
                let now = Date()
                tokens = min(burst, tokens + now.timeIntervalSince(last) * rate)
                last = now
                guard tokens >= 1 else {
                    dropped += 1
                    return (false, 0)
                }
                tokens -= 1
                defer { dropped = 0 }
                return (true, dropped)
            }
        }
    }

    var inner: any LogHandler
    let bucket: Bucket

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        let (allowed, dropped) = bucket.take()
        guard allowed else { return }
        if dropped > 0 {
            inner.log(event: LogEvent(level: .warning, message: "\(dropped) log lines dropped (the log's rate limit: \(Int(bucket.rate)) a second)", metadata: nil,
                                      source: event.source, file: event.file, function: event.function, line: event.line))
        }
        inner.log(event: event)
    }
}
