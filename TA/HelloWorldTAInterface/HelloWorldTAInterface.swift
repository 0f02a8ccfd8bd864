import TEECore

/// The example TA's interface, shared by the TA and its clients (OP-TEE's
/// `ta/include/hello_world_ta.h`, plus crypto, storage and wait commands).
public enum HelloWorldTA {
    public static let uuid: TEEUUID = "8aaaf200-2450-11e4-abe2-0002a5d5c51b"

    public enum Command: UInt32 {
        /// [inout] value a: incremented by one.
        case incrementValue = 0
        /// [inout] value a: decremented by one.
        case decrementValue = 1
        /// [in] memref data, [out] memref SHA-256 (32 bytes; SHORT_BUFFER with the size if smaller).
        case sha256 = 2
        /// [out] memref filled with random bytes.
        case random = 3
        /// [in] memref object id (1–64 bytes), [in] memref data: stored in trusted storage.
        case store = 4
        /// [in] memref object id, [out] memref data (SHORT_BUFFER with the size if smaller).
        case load = 5
        /// [in] value a = milliseconds to wait; CANCEL if the client cancels meanwhile.
        case wait = 6
        /// [in] memref (shared memory), [inout] value a = timeout in ms → a = the byte at
        /// offset 0 when it changed, b = 1 if it changed within the timeout. The TA reads the
        /// client's memory again and again during one call: with the daemon's shared memory it
        /// sees the client's write without any further call (zero copy). Cancellable.
        case watch = 7
        /// [in] memref, [out] value a = the sum of its bytes (mod 2^32), b = its size: a TA
        /// that reads every byte (the memref throughput benchmark).
        case sum = 8
        /// [out] memref 16 bytes: the client's identity UUID (RFC order), [out] value a = its
        /// login method — what the TA sees of who called it.
        case whoami = 9
        /// [in] memref id: deletes the data object `store` wrote (ITEM_NOT_FOUND if none).
        case delete = 10
        /// [in] memref id, [in] memref bytes, [in] value a = offset: writes the bytes into the
        /// object `store` wrote, in place at the offset (TEE_WriteObjectData).
        case write = 11
    }
}
