/* optee_examples' ecdsa TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "ecdsa"
#include "example.h"

static const TEEC_UUID ecdsa_ta = { 0x1945e8e7, 0x0278, 0x4bfb, { 0xbb, 0x99, 0xaf, 0x10, 0x80, 0xb2, 0xa9, 0x34 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* ecdsa: for each of the original's algorithms, COMPUTE_DIGEST of "abc" (FIPS 180-2's
     * examples: first and last digest bytes), which selects the curve, GEN_KEY on it, and
     * SIGN_VERIFY_DIGEST (SHORT_BUFFER with the size first). */
    CHECK(TEEC_OpenSession(ctx, &s, &ecdsa_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "ecdsa open");
    static const struct { uint32_t algo; size_t digest, signature; unsigned char first, last; } cases[5] = {
        { 0x70001042, 20, 48, 0xa9, 0x9d },    /* TEE_ALG_ECDSA_SHA1: P-192 */
        { 0x70002042, 28, 56, 0x23, 0xa7 },    /* SHA224: P-224 */
        { 0x70003042, 32, 64, 0xba, 0xad },    /* SHA256: P-256 */
        { 0x70004042, 48, 96, 0xcb, 0xa7 },    /* SHA384: P-384 */
        { 0x70005042, 64, 132, 0xdd, 0x9f },   /* SHA512: P-521 */
    };
    unsigned char dg[64], sig[160];
    for (int i = 0; i < 5; i++) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_NONE);
        op.params[0].tmpref.buffer = "abc";
        op.params[0].tmpref.size = 3;
        op.params[1].tmpref.buffer = dg;
        op.params[1].tmpref.size = sizeof dg;
        op.params[2].value.a = cases[i].algo;
        size_t n = cases[i].digest;
        CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == n && dg[0] == cases[i].first && dg[n - 1] == cases[i].last, "ecdsa %#x digest", cases[i].algo);
        memset(&op, 0, sizeof op);
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS, "ecdsa %#x gen key", cases[i].algo);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
        op.params[0].tmpref.buffer = dg;
        op.params[0].tmpref.size = n;
        op.params[1].tmpref.buffer = sig;
        op.params[1].tmpref.size = 16;
        CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == cases[i].signature, "ecdsa %#x short signature buffer: %zu", cases[i].algo, op.params[1].tmpref.size);
        op.params[1].tmpref.size = sizeof sig;
        CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == cases[i].signature, "ecdsa %#x sign and verify", cases[i].algo);
    }
    TEEC_CloseSession(&s);
}
