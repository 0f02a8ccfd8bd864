import Foundation

/// A value behind an `NSLock` (pthread underneath), with `Mutex`'s `withLock` shape. Not
/// `Synchronization.Mutex`: on Linux ThreadSanitizer cannot see it and reports every access
/// under it as a race, and TA developers run their tests under TSan. (TEETransport has the same
/// type on a bare pthread mutex; this module may not depend on the transport.)
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
