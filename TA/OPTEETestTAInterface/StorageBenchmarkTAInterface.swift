import TEECore

/// optee_test's trusted-storage benchmark TA (`ta/storage_benchmark`), which xtest's benchmark
/// suite drives (`xtest -t benchmark`, cases 1001 WRITE, 1002 READ, 1003 REWRITE): its UUID and
/// command IDs (`ta_storage_benchmark.h`).
public enum StorageBenchmarkTA {
    public static let uuid: TEEUUID = "f157cda0-550c-11e5-a6fa-0002a5d5c51b"

    /// Each: [in] value a = data size (0: 1024 bytes), b = chunk size (0: 1024 bytes); [in]
    /// value a = verify what is in the object afterwards (non-zero); [out] value a = the
    /// milliseconds the timed part took (TEE_GetSystemTime). The TA writes a fresh object of
    /// the data size, then times reading it, writing it over, or reading and rewriting each
    /// chunk in place, one chunk at a time; the object is deleted at the end.
    public enum Command: UInt32, CaseIterable, Sendable {
        case read = 0, write = 1, rewrite = 2
    }

    /// The object's ID: the original's `"BenchmarkTestFile"` with its NUL (`sizeof`).
    public static let objectID: [UInt8] = Array("BenchmarkTestFile".utf8) + [0]

    /// What each chunk holds: byte i of a chunk is (i & 0xff) ^ 0xaa (the original's SCRAMBLE).
    public static func chunk(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0) ^ 0xAA } }

    /// The largest data size this port takes (xtest's largest is 1 MiB) and the largest chunk.
    public static let maxDataSize = 16 << 20
    public static let maxChunkSize = 1 << 20
}
