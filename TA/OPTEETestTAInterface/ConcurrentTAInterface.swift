import TEECore

/// optee_test's concurrency test TA (`ta/concurrent`) and its large-data twin
/// (`ta/concurrent_large`, the same code): UUIDs and command IDs as xtest 1005 and 1013 use them.
public enum ConcurrentTA {
    public static let uuid: TEEUUID = "e13010e0-2ae1-11e5-896a-0002a5d5c51b"
    public static let largeUUID: TEEUUID = "5ce0c432-0ab0-40e5-a056-782ca0e6aba2"

    public enum Command: UInt32, Sendable {
        /// [inout] memref: the shared `active_count` (u32); [inout] value a = rounds of a busy
        /// loop, b ← how many calls were active (this one included) when it started.
        case busyLoop = 0
        /// As `busyLoop`, and [in] memref data, [out] memref: its SHA-256, computed `a` times.
        case sha256 = 1
    }
}
