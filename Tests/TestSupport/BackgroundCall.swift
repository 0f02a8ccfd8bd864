import Foundation
import TEEClient
import TEECore

/// A client call run on a thread of its own, for tests that act on it meanwhile (cancel it, kill
/// the process it waits for): what it returned — SUCCESS or its error's result — once it has.
public final class BackgroundCall: @unchecked Sendable {
    // @unchecked: `outcome` is written once, under `lock`, before `done` is signalled.
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var outcome: TEEResult?

    public init(_ body: @escaping @Sendable () throws(TEEClientError) -> Void) {
        Thread.detachNewThread { [self] in
            let result: TEEResult
            do throws(TEEClientError) {
                try body()
                result = .success
            } catch {
                result = error.result
            }
            lock.withLock { outcome = result }
            done.signal()
        }
    }

    /// The call's result, waiting at most `seconds` for it; nil if it has not returned by then.
    public func result(within seconds: Double) -> TEEResult? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { outcome }
    }
}
