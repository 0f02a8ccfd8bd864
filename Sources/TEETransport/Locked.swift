#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex, with `Synchronization.Mutex`'s `withLock` shape.
///
/// Why not `Mutex`: on Linux (Swift 6.3.1) its futex-based lock is invisible to
/// ThreadSanitizer, so `swift test --sanitize=thread` reports every access under it as a race
/// (a two-thread counter under `Mutex` reproduces it). TSan intercepts pthread mutexes, so with
/// this lock a TSan run of our tests — or of a user's TA tests — shows only real races.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched between pthread_mutex_lock and unlock.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
