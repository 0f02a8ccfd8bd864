import TEECore

/// optee_test's large TA (`ta/large`, xtest 1034 "Test loading a large TA"): its UUID. It has no
/// commands: a session opens, and every invoke is GENERIC.
public enum LargeTA {
    public static let uuid: TEEUUID = "25497083-a58a-4fc5-8a72-1ad7b69b8562"
    /// The original's constant buffer: 1 MiB, its first byte 1.
    public static let bufferSize = 1 << 20
}
