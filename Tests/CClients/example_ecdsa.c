/* optee_examples' ecdsa TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "ecdsa"
#include "example.h"

static const TEEC_UUID ecdsa_ta = { 0x1945e8e7, 0x0278, 0x4bfb, { 0xbb, 0x99, 0xaf, 0x10, 0x80, 0xb2, 0xa9, 0x34 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* ecdsa: COMPUTE_DIGEST (SHA-256, selects P-256), GEN_KEY, SIGN_VERIFY_DIGEST. */
    CHECK(TEEC_OpenSession(ctx, &s, &ecdsa_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "ecdsa open");
    unsigned char dg[64], sig[128];
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].tmpref.buffer = "abc";
    op.params[0].tmpref.size = 3;
    op.params[1].tmpref.buffer = dg;
    op.params[1].tmpref.size = sizeof dg;
    op.params[2].value.a = 0x70003042;   /* TEE_ALG_ECDSA_SHA256 */
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 32 && dg[0] == 0xba && dg[31] == 0xad, "ecdsa digest");
    memset(&op, 0, sizeof op);
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS, "ecdsa gen key");
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = dg;
    op.params[0].tmpref.size = 32;
    op.params[1].tmpref.buffer = sig;
    op.params[1].tmpref.size = 16;
    CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == 64, "ecdsa short signature buffer");
    op.params[1].tmpref.size = sizeof sig;
    CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 64, "ecdsa sign and verify");
    TEEC_CloseSession(&s);
}
