#if canImport(Glibc)
import Glibc
#endif

/// What a TA host needs from the OS to hold a TA to its declared sizes, without Foundation's
/// slower paths (a cold OpenSession runs these in a freshly started process).
public enum HostResources {
    /// Starts `body` on a new thread with a stack of `stackSize` bytes (rounded up to pages;
    /// a guard page below it turns an overflow into SIGSEGV). The thread is detached.
    public static func startThread(stackSize: Int, _ body: @escaping () -> Void) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, (max(stackSize, Int(PTHREAD_STACK_MIN)) + page - 1) / page * page)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { raw in
            // SAFETY: `raw` is the retained box passed below; taken back exactly once.
            let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        if rc != 0 { Unmanaged<ThreadBody>.fromOpaque(box).release() }
        return rc == 0
    }

    /// Waits until a debugger traces this process (`TracerPid` in `status`, an open descriptor of
    /// /proc/self/status), looking every 50 ms.
    public static func waitForTracer(status fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if n > 0, let text = String(bytes: buffer[0..<n], encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("TracerPid:") }),
               let tracer = Int(line.dropFirst("TracerPid:".count).trimmingCharacters(in: .whitespaces)), tracer != 0 {
                return
            }
            usleep(50_000)
        }
    }

    /// /proc/self/statm, opened while the process may still open files (before its sandbox):
    /// `limitData` reads it later.
    public static func openStatm() -> Int32 { open("/proc/self/statm", O_RDONLY | O_CLOEXEC) }

    /// Limits the process's data (RLIMIT_DATA) to what it uses now plus `extra` bytes: an
    /// allocation past it fails. "What it uses now" is /proc/self/statm's data field (pages),
    /// read through `statm` (from `openStatm`, read once: a fresh read of a /proc file is a fresh
    /// snapshot), which is closed here.
    public static func limitData(extra: Int, statm fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard fd >= 0 else { return }
        let n = read(fd, &buffer, buffer.count - 1)
        close(fd)
        guard n > 0 else { return }
        // size resident shared text lib data dt — the sixth field.
        let fields = buffer[0..<n].split(separator: UInt8(ascii: " "))
        guard fields.count >= 6, let pages = Int(String(decoding: fields[5], as: UTF8.self)) else { return }
        var limit = rlimit()
        limit.rlim_cur = rlim_t(pages * Int(sysconf(Int32(_SC_PAGESIZE))) + extra)
        limit.rlim_max = limit.rlim_cur
        setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &limit)
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
