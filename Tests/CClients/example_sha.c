/* optee_examples' sha TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "sha"
#include "example.h"

static const TEEC_UUID sha_ta = { 0x1dc6a16b, 0x2fba, 0x4aa1, { 0x95, 0x19, 0xea, 0x8a, 0x6c, 0x8c, 0x16, 0xe5 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* sha: COMPUTE_DIGEST (SHA-256 of "abc", FIPS 180-2 B.1; SHA-1; SM3 not implemented), then the
     * original host's HMAC sequence — PREPARE, SET_KEY, SET_IV, COMPUTE_MAC (over the message
     * twice, as the original TA does; the expected tag is CPython's
     * hmac.new(b'\xa5' * 128, m + m, 'sha256')), and COMPARE_MAC, right and flipped. */
    static const unsigned char hmac_expected[32] = {
        0xb7, 0xe9, 0x5f, 0x80, 0x11, 0xe4, 0xbb, 0x0f, 0xd7, 0x8f, 0x04, 0x97, 0xee, 0xe5, 0x59, 0xf7,
        0x90, 0xc8, 0x1f, 0xe6, 0x88, 0x9b, 0x9d, 0x1b, 0xc6, 0x66, 0x2f, 0xae, 0x8d, 0xdc, 0x40, 0x6c };
    CHECK(TEEC_OpenSession(ctx, &s, &sha_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "sha open");
    unsigned char sha_out[64], hkey[128];
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].tmpref.buffer = "abc";
    op.params[0].tmpref.size = 3;
    op.params[1].tmpref.buffer = sha_out;
    op.params[1].tmpref.size = sizeof sha_out;
    op.params[2].value.a = 0x50000004;
    CHECK(TEEC_InvokeCommand(&s, 5, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 32 && sha_out[0] == 0xba && sha_out[31] == 0xad, "sha digest");
    op.params[2].value.a = 0x50000002;   /* SHA-1 of "abc": FIPS 180-2 A.1, a9993e36...9cd0d89d */
    op.params[1].tmpref.size = sizeof sha_out;
    CHECK(TEEC_InvokeCommand(&s, 5, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 20 && sha_out[0] == 0xa9 && sha_out[1] == 0x99 && sha_out[19] == 0x9d, "sha SHA-1 digest");
    op.params[2].value.a = 0x50000007;   /* SM3: not in rproc-tee */
    op.params[1].tmpref.size = sizeof sha_out;
    CHECK(TEEC_InvokeCommand(&s, 5, &op, &origin) == TEEC_ERROR_NOT_SUPPORTED, "sha SM3 is not implemented");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = "x";
    op.params[0].tmpref.size = 1;
    CHECK(TEEC_InvokeCommand(&s, 3, &op, &origin) == TEEC_ERROR_BAD_STATE, "sha MAC before PREPARE");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].value.a = 0x30000004;   /* TEE_ALG_HMAC_SHA256 */
    op.params[1].value.a = sizeof hkey;
    op.params[2].value.a = 0;            /* TA_SHA_OBJ_TYPE_HMAC_SHA256 */
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS, "sha prepare");
    memset(hkey, 0xa5, sizeof hkey);
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = hkey;
    op.params[0].tmpref.size = 64;
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS, "sha key of the wrong size");
    op.params[0].tmpref.size = sizeof hkey;
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS, "sha set key");
    op.params[0].tmpref.buffer = NULL;
    op.params[0].tmpref.size = 0;
    CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_SUCCESS, "sha set IV");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = "hello rproc-tee";
    op.params[0].tmpref.size = 15;
    op.params[1].tmpref.buffer = sha_out;
    op.params[1].tmpref.size = sizeof sha_out;
    CHECK(TEEC_InvokeCommand(&s, 3, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 32 && memcmp(sha_out, hmac_expected, 32) == 0, "sha HMAC-SHA256");
    for (int flip = 0; flip < 2; flip++) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        op.params[0].tmpref.buffer = NULL;
        CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_SUCCESS, "sha set IV again");
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE);
        op.params[0].tmpref.buffer = "hello rproc-tee";
        op.params[0].tmpref.size = 15;
        sha_out[5] ^= (unsigned char)flip;
        op.params[1].tmpref.buffer = sha_out;
        op.params[1].tmpref.size = 32;
        CHECK(TEEC_InvokeCommand(&s, 4, &op, &origin) == (flip ? TEE_ERROR_MAC_INVALID : TEEC_SUCCESS), "sha compare, flipped %d", flip);
    }
    CHECK(TEEC_InvokeCommand(&s, 42, &op, &origin) == TEEC_ERROR_NOT_SUPPORTED, "sha unknown command");
    TEEC_CloseSession(&s);
}
