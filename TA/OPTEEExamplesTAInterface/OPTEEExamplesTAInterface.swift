import TEECore

/// The interfaces of OP-TEE's example TAs (linaro-swg/optee_examples, `*/ta/include/*_ta.h`):
/// UUIDs and command ids carry over so the examples' unmodified host programs run against
/// rproc-tee. hello_world's is `HelloWorldTA` (TA/HelloWorldTAInterface).
public enum RandomExampleTA {
    public static let uuid: TEEUUID = "b6c53aba-9669-4668-a7f2-205629d00f86"
    public enum Command: UInt32 {
        /// [out] memref: filled with random bytes, all of its size.
        case generate = 0
    }
}

public enum SecureStorageExampleTA {
    public static let uuid: TEEUUID = "f4e750bb-1437-4fbf-8785-8d3580c34994"
    public enum Command: UInt32 {
        /// [in] memref object id, [out] memref data (SHORT_BUFFER with the object's size when it
        /// does not fit; ITEM_NOT_FOUND when there is no such object).
        case readRaw = 0
        /// [in] memref object id, [in] memref data: creates or replaces the object.
        case writeRaw = 1
        /// [in] memref object id: deletes the object.
        case delete = 2
    }
}
