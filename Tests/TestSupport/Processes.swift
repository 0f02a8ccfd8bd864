import Foundation

/// Runs `executable` to its end with stdout and stderr on one pipe (so their order is kept) and
/// returns its status and that output. `environment` entries are added to (or, as nil values,
/// removed from) this process's environment.
public func runMerged(_ executable: URL, _ arguments: [String], environment: [String: String?] = [:],
                      directory: URL? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    if let directory { p.currentDirectoryURL = directory }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}
