// The interface between libutee.so (the C Internal API a native TA links) and the TA host that
// runs it: the host binds one table of functions into the library before the TA is loaded; the
// library checks and marshals each GP call into one of them. Both sides are rproc-tee's own and
// built together; RPROC_TEE_UTEE_ABI changes with any change here (the bind refuses a mismatch).
#ifndef RPROC_TEE_TA_ABI_H
#define RPROC_TEE_TA_ABI_H

#include <stddef.h>
#include <stdint.h>

#define RPROC_TEE_UTEE_ABI 3u

/// One Internal API call's operands. Which slots a function reads and writes is listed with its
/// id below: `handle` are handles the TA passed (0 = TEE_HANDLE_NULL), `value` scalars in and out,
/// `in` byte strings the TA passed, `out` its buffers (`out_len`: capacity in, bytes written —
/// or, with SHORT_BUFFER, bytes needed — out), `attrs` a TEE_Attribute array (GP 1.3 layout).
struct rproc_tee_call {
    uint64_t handle[3];
    uint64_t value[8];
    const void *in[2];
    size_t in_len[2];
    void *out[2];
    size_t out_len[2];
    const void *attrs;
    uint32_t attr_count;
    uint32_t reserved;
};

/// The functions, with the slots each uses.
enum rproc_tee_fn {
    // Properties. handle0: a property set or enumerator; in0: the name (absent: the enumerator's
    // current property); value0: the kind wanted (rproc_tee_prop_kind); out0: the value.
    RPROC_TEE_FN_PROPERTY_GET = 1,
    RPROC_TEE_FN_PROPENUM_ALLOCATE = 2,       // → value0: handle
    RPROC_TEE_FN_PROPENUM_FREE = 3,           // handle0
    RPROC_TEE_FN_PROPENUM_START = 4,          // handle0, handle1: the set
    RPROC_TEE_FN_PROPENUM_RESET = 5,          // handle0
    RPROC_TEE_FN_PROPENUM_NAME = 6,           // handle0 → out0
    RPROC_TEE_FN_PROPENUM_NEXT = 7,           // handle0
    // Other TAs. in0: the 16-byte UUID; out0: the TEE_Param[4] (read and written back).
    RPROC_TEE_FN_TA_OPEN = 10,                // value0 timeout, value1 param types → value2 session, value3 origin
    RPROC_TEE_FN_TA_INVOKE = 11,              // value0 session, value1 timeout, value2 command, value3 types → value4 origin
    RPROC_TEE_FN_TA_CLOSE = 12,               // value0 session
    RPROC_TEE_FN_CANCELLATION = 13,           // value0: 0 flag, 1 unmask, 2 mask → value1: the flag or previous mask
    RPROC_TEE_FN_WAIT = 14,                   // value0 ms
    RPROC_TEE_FN_TA_TIME_GET = 15,            // → value0 seconds, value1 ms
    RPROC_TEE_FN_TA_TIME_SET = 16,            // value0 seconds, value1 ms
    RPROC_TEE_FN_RANDOM = 17,                 // out0
    RPROC_TEE_FN_SUPP_PLUGIN = 18,            // in0 UUID, value0 cmd, value1 sub command, out0 buffer → out_len0
    // Objects.
    RPROC_TEE_FN_OBJECT_ALLOCATE = 30,        // value0 type, value1 max size → value2 handle
    RPROC_TEE_FN_OBJECT_CLOSE = 31,           // handle0 (transient freed, persistent closed)
    RPROC_TEE_FN_OBJECT_RESET = 32,           // handle0
    RPROC_TEE_FN_OBJECT_POPULATE = 33,        // handle0, attrs
    RPROC_TEE_FN_OBJECT_INFO = 34,            // handle0 → value0..6: type, size, max size, usage, data size, position, flags
    RPROC_TEE_FN_OBJECT_RESTRICT = 35,        // handle0, value0 usage
    RPROC_TEE_FN_OBJECT_BUFFER_ATTRIBUTE = 36,// handle0, value0 attribute → out0
    RPROC_TEE_FN_OBJECT_VALUE_ATTRIBUTE = 37, // handle0, value0 attribute → value1 a, value2 b
    RPROC_TEE_FN_OBJECT_COPY_ATTRIBUTES = 38, // handle0 destination, handle1 source
    RPROC_TEE_FN_OBJECT_GENERATE = 39,        // handle0, value0 key size, attrs
    RPROC_TEE_FN_PERSISTENT_OPEN = 40,        // value0 storage, in0 id, value1 flags → value2 handle
    RPROC_TEE_FN_PERSISTENT_CREATE = 41,      // value0 storage, in0 id, value1 flags, handle0 attributes, in1 data, value3 1: keep a handle → value2
    RPROC_TEE_FN_PERSISTENT_DELETE = 42,      // handle0
    RPROC_TEE_FN_PERSISTENT_RENAME = 43,      // handle0, in0 new id
    RPROC_TEE_FN_OBJENUM_ALLOCATE = 44,       // → value0 handle
    RPROC_TEE_FN_OBJENUM_FREE = 45,           // handle0
    RPROC_TEE_FN_OBJENUM_RESET = 46,          // handle0
    RPROC_TEE_FN_OBJENUM_START = 47,          // handle0, value0 storage
    RPROC_TEE_FN_OBJENUM_NEXT = 48,           // handle0 → out0 id, value0..6 as OBJECT_INFO
    RPROC_TEE_FN_DATA_READ = 49,              // handle0 → out0
    RPROC_TEE_FN_DATA_WRITE = 50,             // handle0, in0
    RPROC_TEE_FN_DATA_TRUNCATE = 51,          // handle0, value0 size
    RPROC_TEE_FN_DATA_SEEK = 52,              // handle0, value0 offset (int64), value1 whence
    // Operations.
    RPROC_TEE_FN_OPERATION_ALLOCATE = 60,     // value0 algorithm, value1 mode, value2 max key size → value3 handle
    RPROC_TEE_FN_OPERATION_FREE = 61,         // handle0
    RPROC_TEE_FN_OPERATION_INFO = 62,         // handle0 → value0..7 (TEE_OperationInfo's words)
    RPROC_TEE_FN_OPERATION_INFO_MULTIPLE = 63,// handle0 → out0 (TEE_OperationInfoMultiple)
    RPROC_TEE_FN_OPERATION_RESET = 64,        // handle0
    RPROC_TEE_FN_OPERATION_SET_KEY = 65,      // handle0, handle1 key
    RPROC_TEE_FN_OPERATION_SET_KEY2 = 66,     // handle0, handle1, handle2
    RPROC_TEE_FN_OPERATION_COPY = 67,         // handle0 destination, handle1 source
    RPROC_TEE_FN_ALGORITHM_SUPPORTED = 68,    // value0 algorithm, value1 element
    RPROC_TEE_FN_DIGEST_UPDATE = 70,          // handle0, in0
    RPROC_TEE_FN_DIGEST_FINAL = 71,           // handle0, in0 → out0
    RPROC_TEE_FN_DIGEST_EXTRACT = 72,         // handle0 → out0
    RPROC_TEE_FN_CIPHER_INIT = 73,            // handle0, in0 IV
    RPROC_TEE_FN_CIPHER_UPDATE = 74,          // handle0, in0 → out0
    RPROC_TEE_FN_CIPHER_FINAL = 75,           // handle0, in0 → out0
    RPROC_TEE_FN_MAC_INIT = 76,               // handle0, in0 IV
    RPROC_TEE_FN_MAC_UPDATE = 77,             // handle0, in0
    RPROC_TEE_FN_MAC_COMPUTE = 78,            // handle0, in0 → out0
    RPROC_TEE_FN_MAC_COMPARE = 79,            // handle0, in0 message, in1 MAC
    RPROC_TEE_FN_AE_INIT = 80,                // handle0, in0 nonce, value0 tag bits, value1 AAD length, value2 payload length
    RPROC_TEE_FN_AE_AAD = 81,                 // handle0, in0
    RPROC_TEE_FN_AE_UPDATE = 82,              // handle0, in0 → out0
    RPROC_TEE_FN_AE_ENCRYPT_FINAL = 83,       // handle0, in0 → out0 data, out1 tag
    RPROC_TEE_FN_AE_DECRYPT_FINAL = 84,       // handle0, in0 data, in1 tag → out0
    RPROC_TEE_FN_ASYMMETRIC_ENCRYPT = 85,     // handle0, attrs, in0 → out0
    RPROC_TEE_FN_ASYMMETRIC_DECRYPT = 86,     // handle0, attrs, in0 → out0
    RPROC_TEE_FN_SIGN_DIGEST = 87,            // handle0, attrs, in0 → out0
    RPROC_TEE_FN_VERIFY_DIGEST = 88,          // handle0, attrs, in0 digest, in1 signature
    RPROC_TEE_FN_DERIVE_KEY = 89,             // handle0, attrs, handle1 the derived key
    // Arithmetic: value0 the operation (rproc_tee_bigint_op); the big integers are the TA's own
    // memory (layout below), named by address: handle0 the destination, handle1 and handle2 the
    // operands, value1 the modulus, value2 a second destination (remainder, u), value3 a third
    // (v); value4 a scalar in, value5 a scalar out; in0/out0 an octet string.
    RPROC_TEE_FN_BIGINT = 90,
    // A dlopen of a TA library by UUID: in0 the name; the host asks the core, which verifies it
    // (and what it needs) and sends the sealed images; the host's open broker then opens them.
    RPROC_TEE_FN_LOAD_LIBRARY = 91,
};

/// A TEE_BigInt (and TEE_BigIntFMM) in the TA's memory, as libutee lays it out: word 0 the
/// capacity in 32-bit limbs (TEE_BigIntSizeInU32(bits) - 2) with RPROC_TEE_BIGINT_MAGIC in its
/// high byte, word 1 the sign (bit 31) and the limbs in use, then the limbs, least
/// significant first.
#define RPROC_TEE_BIGINT_MAGIC 0xB1000000u

enum rproc_tee_bigint_op {
    RPROC_TEE_BIGINT_FROM_OCTETS = 1, RPROC_TEE_BIGINT_TO_OCTETS, RPROC_TEE_BIGINT_FROM_S32, RPROC_TEE_BIGINT_TO_S32,
    RPROC_TEE_BIGINT_CMP, RPROC_TEE_BIGINT_CMP_S32, RPROC_TEE_BIGINT_SHIFT_RIGHT, RPROC_TEE_BIGINT_GET_BIT,
    RPROC_TEE_BIGINT_BIT_COUNT, RPROC_TEE_BIGINT_SET_BIT, RPROC_TEE_BIGINT_ASSIGN, RPROC_TEE_BIGINT_ABS,
    RPROC_TEE_BIGINT_ADD, RPROC_TEE_BIGINT_SUB, RPROC_TEE_BIGINT_NEG, RPROC_TEE_BIGINT_MUL, RPROC_TEE_BIGINT_SQUARE,
    RPROC_TEE_BIGINT_DIV, RPROC_TEE_BIGINT_MOD, RPROC_TEE_BIGINT_ADD_MOD, RPROC_TEE_BIGINT_SUB_MOD, RPROC_TEE_BIGINT_MUL_MOD,
    RPROC_TEE_BIGINT_SQUARE_MOD, RPROC_TEE_BIGINT_INV_MOD, RPROC_TEE_BIGINT_EXP_MOD, RPROC_TEE_BIGINT_RELATIVE_PRIME,
    RPROC_TEE_BIGINT_EXTENDED_GCD, RPROC_TEE_BIGINT_IS_PRIME, RPROC_TEE_BIGINT_TO_FMM, RPROC_TEE_BIGINT_FROM_FMM,
    RPROC_TEE_BIGINT_COMPUTE_FMM,
};

/// What RPROC_TEE_FN_PROPERTY_GET converts the property to (GP's TEE_GetPropertyAs*).
enum rproc_tee_prop_kind {
    RPROC_TEE_PROP_STRING = 0,   // out0: NUL-terminated
    RPROC_TEE_PROP_BOOL = 1,     // value1
    RPROC_TEE_PROP_U32 = 2,      // value1
    RPROC_TEE_PROP_U64 = 3,      // value1
    RPROC_TEE_PROP_BINARY = 4,   // out0
    RPROC_TEE_PROP_UUID = 5,     // out0: 16 bytes, TEE_UUID's layout
    RPROC_TEE_PROP_IDENTITY = 6, // value1 login, out0: 16 bytes UUID
};

/// The host's side, bound once per process before the TA is loaded.
struct rproc_tee_utee_ops {
    uint32_t abi;
    uint32_t size;
    /// Ends the TA instance (the core answers its sessions TARGET_DEAD). Never returns.
    void (*panic)(uint32_t code, const char *reason);
    /// One line of the TA's trace, already formatted, to the secure-world log.
    void (*log)(int level, const char *text, size_t length);
    /// Every other Internal API function: a TEE_Result (a bad handle or call order panics).
    uint32_t (*call)(uint32_t fn, struct rproc_tee_call *call);
    /// The TA's data size (TA_DATA_SIZE): the bound on what TEE_Malloc holds at once.
    size_t data_size;
};

/// libutee.so's entry for the host: 0, or -1 if `ops` is not of this ABI.
int rproc_tee_utee_bind(const struct rproc_tee_utee_ops *ops);

#endif
