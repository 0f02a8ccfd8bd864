// A client process for the daemon tests: it connects to the daemon at argv[2] and does one
// thing (argv[1]); the tests kill it with signals at chosen moments and check what the daemon
// and the other clients see. "ready" on stdout says the moment has come.
import Foundation
import HelloWorldTAInterface
import RemoteProc
import RemoteProcTAInterface
import TEEClient

/// Prints a line and flushes it at once (the test is reading the pipe).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// The test process that started this one. The modes below run until killed; if that test
/// process dies first (a crashed test never kills its helpers), they must not run on forever
/// (a "flip" with no pause would keep a core busy): each loop ends when its parent is gone.
let parent = getppid()
func parentGone() -> Bool { getppid() != parent }

func idleUntilKilled() -> Never {
    while !parentGone() { sleep(1) }
    exit(0)
}

// RPROC_TEE_TEST_AS_UID: a test running as root runs this client as another local user.
if let text = ProcessInfo.processInfo.environment["RPROC_TEE_TEST_AS_UID"], let uid = uid_t(text) {
    guard setgroups(0, nil) == 0, setgid(uid) == 0, setuid(uid) == 0 else {
        say("error: cannot become uid \(uid)")
        exit(1)
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    say("usage: rproc-tee-testclient hold|watch|boot|count SOCKET [ARG]")
    exit(2)
}
let mode = arguments[1]
if mode == "flip" {
    // flip SOCKET PATH START END [PAUSE_US]: maps another process's memfd (PATH = /proc/PID/fd/N)
    // and flips bytes in [START, END) until killed, PAUSE_US between flips (default none) — a
    // hostile process racing the secure world's reads.
    let pause = UInt32(arguments.count > 6 ? arguments[6] : "0") ?? 0
    let fd = open(arguments[3], O_RDWR)
    let start = Int(arguments[4]) ?? 0, end = Int(arguments[5]) ?? 0
    guard fd >= 0, end > start, let base = mmap(nil, end, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
        say("error: cannot map \(arguments[3])")
        exit(1)
    }
    let bytes = base.assumingMemoryBound(to: UInt8.self)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var flips = 0
    while flips & 0x3FF != 0x3FF || !parentGone() {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        bytes[start + Int(state % UInt64(end - start))] ^= UInt8(truncatingIfNeeded: state >> 32) | 1
        flips += 1
        if flips == 1 { say("ready") }
        if pause > 0 { usleep(pause) }
    }
    exit(0)
}
if mode == "squat" {
    // squat SOCKET UID: an impostor TEE (red-team H3). Binds SOCKET as this process's user
    // (the socket file is then that user's), becomes UID, and only then listens — so the
    // kernel reports UID as the server's credentials — and accepts (and ignores) clients.
    let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(arguments[2].utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let bound = withUnsafePointer(to: &address) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    let uid = uid_t(arguments.count > 3 ? arguments[3] : "") ?? getuid()
    guard bound == 0, setgid(uid) == 0, setuid(uid) == 0, listen(fd, 8) == 0 else {
        say("error: cannot squat \(arguments[2]): \(String(cString: strerror(errno)))")
        exit(1)
    }
    say("ready")
    while !parentGone() {
        let client = accept(fd, nil, nil)
        if client >= 0 { close(client) }
    }
    exit(0)
}
if mode == "connections" {
    // connections SOCKET N: opens up to N connections; "connected K" and why the next failed.
    var held: [TEEContext] = []
    var failure = "none"
    for _ in 0..<(Int(arguments[3]) ?? 1) {
        do { held.append(try TEEContext.connect(socket: arguments[2])) } catch {
            failure = "\(error)"
            break
        }
    }
    say("connected \(held.count) \(failure)")
    idleUntilKilled()
}
do {
    let context = try TEEContext.connect(socket: arguments[2])
    switch mode {
    case "hold":
        let session = try context.openSession(HelloWorldTA.uuid)
        _ = try context.allocateSharedMemory(size: 1 << 20, flags: [.input, .output])
        try session.invoke(HelloWorldTA.Command.incrementValue.rawValue, TEEOperation(.valueInout(1)))
        say("ready")
        idleUntilKilled()
    case "watch":
        let session = try context.openSession(HelloWorldTA.uuid)
        let shm = try context.allocateSharedMemory(size: 4096, flags: [.input, .output])
        say("ready")
        try session.invoke(HelloWorldTA.Command.watch.rawValue, TEEOperation(.partial(.memrefPartialInput, shm, offset: 0, size: 4096), .valueInout(60_000)))
        say("watch returned")
    case "boot":
        let image = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[3])))
        let bus = try PlatformBusClient(context: context)
        let driver = RemoteProcessor(context: context, id: 0, name: "m4", memory: bus, map: try bus.deviceMap(coprocessor: 0))
        try driver.boot(firmware: image)
        say("ready")
        idleUntilKilled()
    case "load":
        // load SOCKET IMAGE: LOAD and RELEASE again and again (the test kills it mid-LOAD).
        let image = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[3])))
        let session = try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(0)))
        let shm = try context.registerSharedMemory(image, flags: .input)
        say("ready")
        while !parentGone() {
            try session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, TEEOperation(.valueInput(0), .whole(shm)))
            try session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(0)))
        }
    case "count":
        // N increments with checked values: no reply lost, duplicated or mixed up.
        let n = Int(arguments[3]) ?? 1000
        let session = try context.openSession(HelloWorldTA.uuid)
        for i in 0..<n {
            let op = TEEOperation(.valueInout(UInt32(i)))
            try session.invoke(HelloWorldTA.Command.incrementValue.rawValue, op)
            guard op.value(0)?.a == UInt32(i) + 1 else {
                say("wrong reply at \(i): \(String(describing: op.value(0)))")
                exit(1)
            }
        }
        say("ok \(n)")
    case "sessions":
        // sessions SOCKET UUID N: opens up to N sessions to UUID; "opened K" and the result
        // that stopped it.
        var held: [TEESession] = []
        var stop = "none"
        for _ in 0..<(Int(arguments[4]) ?? 1) {
            do { held.append(try context.openSession(TEEUUID(arguments[3])!)) } catch {
                stop = "\(error.result)"
                break
            }
        }
        say("opened \(held.count) \(stop)")
        idleUntilKilled()
    case "regions":
        // regions SOCKET N: allocates up to N one-page regions; "regions K" and the result that
        // stopped it. Each keeps a descriptor here: the soft open-file limit is raised first.
        var files = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files)
        files.rlim_cur = files.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files)
        var held: [SharedMemory] = []
        var stop = "none"
        for _ in 0..<(Int(arguments[3]) ?? 1) {
            do { held.append(try context.allocateSharedMemory(size: 4096, flags: [.input, .output])) } catch {
                stop = "\(error.result)"
                break
            }
        }
        say("regions \(held.count) \(stop)")
        idleUntilKilled()
    default:
        say("unknown mode \(mode)")
        exit(2)
    }
} catch {
    say("error: \(error)")
    exit(1)
}
