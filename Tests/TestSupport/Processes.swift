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

/// Copies an executable so that it can be run at once, even though other tests of this process
/// start programs on other threads all the while. Copying it here would open the copy for writing in
/// this process; a program another thread starts meanwhile inherits that descriptor until its own
/// exec, and while any process holds the copy open for writing, executing it fails with ETXTBSY
/// ("Text file busy" — it did, once, in CI). `cp` in a child of its own holds the only writable
/// descriptor, and it has exited when this returns.
public func copyExecutable(_ source: URL, to destination: URL) throws {
    let (status, output) = try runMerged(URL(fileURLWithPath: "/bin/cp"), [source.path, destination.path])
    guard status == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path, NSLocalizedDescriptionKey: "cp: \(output)"])
    }
}
