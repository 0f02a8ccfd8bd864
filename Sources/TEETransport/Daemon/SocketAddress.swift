#if canImport(Glibc)
import Glibc
#endif

/// A Unix-domain socket path as `sockaddr_un`, refused when it does not fit (107 bytes).
struct SocketAddress {
    var storage = sockaddr_un()

    init(path: String) throws(TransportError) {
        let bytes = Array(path.utf8)
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
            throw TransportError(.unreachable, "socket path \(path) is empty or longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            // SAFETY: bytes.count < capacity, so the copy and its NUL fit.
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
