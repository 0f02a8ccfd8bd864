import FirmwareImage
import Foundation
import Glibc
import TEECrypto

/// Peak memory of the installed tool's commands on a large image and on a hostile header (a
/// 4 GiB sparse file whose header announces a small image): each command runs as its own
/// process (`rproc-tee` beside this benchmark); its peak RSS is the child's own VmHWM, read
/// from /proc every 0.2 ms until it exits (wait4's ru_maxrss is useless here: a spawned child
/// inherits the parent's high-water mark at exec).
/// Target: at most the image size + a few MiB; the hostile header costs nothing.
func runFileBenchmarks() throws {
    let tool = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("rproc-tee").path
    guard access(tool, X_OK) == 0 else {
        print("files: \(tool) is missing; build it with `swift build -c release --product rproc-tee` (make bench does)")
        return
    }
    print("files: peak RSS of rproc-tee's commands (separate processes, VmHWM)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let key = try PrivateKey(generating: .ecdsaP256)
    let keyFile = dir.appendingPathComponent("key.pub.pem").path
    try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: keyFile))
    let image = try ImageSigner(images: [try syntheticELF(payloadSize: 64 << 20)], key: key).sign()
    let big = dir.appendingPathComponent("big.sig").path
    try Data(image).write(to: URL(fileURLWithPath: big))
    let hostile = dir.appendingPathComponent("hostile.sig").path
    _ = FileManager.default.createFile(atPath: hostile, contents: Data(image.prefix(20)))
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: hostile))
    try h.truncate(atOffset: 4 << 30)
    try h.close()
    let boardFile = dir.appendingPathComponent("board.json").path
    try Data("""
    {"name": "bench", "coprocessors": [{"id": 0, "name": "bench", "core": "cortex-m4", "elfMachines": [40], "regions": [
      {"name": "CODE", "deviceAddress": "0x0", "physicalAddress": "0x40000000", "size": "0x10000", "loadable": true,
       "firewall": {"default": {"normal": "rw", "coprocessor": ""}, "load": {"normal": "", "coprocessor": ""}, "running": {"normal": "", "coprocessor": "rwx"}}},
      {"name": "DATA", "deviceAddress": "0x10000000", "physicalAddress": "0x50000000", "size": "0x4100000", "loadable": true,
       "firewall": {"default": {"normal": "rw", "coprocessor": ""}, "load": {"normal": "", "coprocessor": ""}, "running": {"normal": "", "coprocessor": "rwx"}}}]}]}
    """.utf8).write(to: URL(fileURLWithPath: boardFile))
    let idle = try peak(tool, ["board"])
    let mib = Double(image.count) / Double(1 << 20)
    print("  image \(format(mib)) MiB; an idle command (rproc-tee board) peaks at \(format(idle.rss)) MiB")
    for (name, args) in [("inspect 64 MiB image", ["inspect", big]), ("verify 64 MiB image", ["verify", big, "--pubkey", keyFile]),
                         ("run 64 MiB image (+ 65 MiB coprocessor RAM)", ["run", big, "--board", boardFile, "--trusted-key", keyFile, "--ticks", "0"]),
                         ("inspect hostile header (4 GiB sparse)", ["inspect", hostile]), ("verify hostile header (4 GiB sparse)", ["verify", hostile, "--pubkey", keyFile])] {
        let r = try peak(tool, args)
        let over = r.rss - idle.rss
        print("  \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(format(r.rss)) MiB (+\(format(over)) over idle, \(format(over / mib, digits: 2)) × the image), \(format(r.seconds * 1000)) ms, exit \(r.status)")
    }
}

private func peak(_ tool: String, _ args: [String]) throws -> (rss: Double, seconds: Double, status: Int32) {
    var pid: pid_t = 0
    let argv = ([tool] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let start = Date()
    guard posix_spawn(&pid, tool, &actions, nil, argv, environ) == 0 else { throw POSIXError(.ENOEXEC) }
    var status: Int32 = 0
    var hwm = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) {
            hwm = max(hwm, kib)
        }
        usleep(200)
    }
    return (Double(hwm) / 1024, Date().timeIntervalSince(start), (status >> 8) & 0xFF)
}
