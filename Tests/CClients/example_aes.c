/* optee_examples' aes TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "aes"
#include "example.h"

static const TEEC_UUID aes_ta = { 0x5dbac793, 0xf574, 0x4871, { 0x8a, 0xd3, 0x04, 0x33, 0x1e, 0xc1, 0x7f, 0x24 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* aes: PREPARE (algo, key size, mode), SET_KEY, SET_IV, CIPHER — CBC and CTR round trips;
     * GCM through AUTHENC with a tag; ECB is not implemented here. */
    CHECK(TEEC_OpenSession(ctx, &s, &aes_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "aes open");
    unsigned char key[16], iv[16] = { 0 }, clear[256], ciph[256], back2[256];
    memset(key, 0xa5, sizeof key);
    memset(clear, 0x5a, sizeof clear);
    for (uint32_t algo = 1; algo <= 2; algo++) {
        for (uint32_t mode = 1; mode <= 1; mode--) {
            memset(&op, 0, sizeof op);
            op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_NONE);
            op.params[0].value.a = algo;
            op.params[1].value.a = 16;
            op.params[2].value.a = mode;
            CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS, "aes prepare %u %u", algo, mode);
            memset(&op, 0, sizeof op);
            op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
            op.params[0].tmpref.buffer = key;
            op.params[0].tmpref.size = sizeof key;
            CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS, "aes set key");
            op.params[0].tmpref.buffer = iv;
            op.params[0].tmpref.size = sizeof iv;
            CHECK(TEEC_InvokeCommand(&s, 2, &op, &origin) == TEEC_SUCCESS, "aes set iv");
            memset(&op, 0, sizeof op);
            op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
            op.params[0].tmpref.buffer = mode ? clear : ciph;
            op.params[0].tmpref.size = sizeof clear;
            op.params[1].tmpref.buffer = mode ? ciph : back2;
            op.params[1].tmpref.size = sizeof ciph;
            CHECK(TEEC_InvokeCommand(&s, 3, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == sizeof clear, "aes cipher %u %u: size %zu", algo, mode, op.params[1].tmpref.size);
        }
        CHECK(memcmp(clear, back2, sizeof clear) == 0 && memcmp(clear, ciph, sizeof clear) != 0, "aes %s round trip", algo == 1 ? "CBC" : "CTR");
    }
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].value.a = 0;   /* ECB */
    op.params[1].value.a = 16;
    op.params[2].value.a = 1;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_NOT_SUPPORTED, "aes ECB is not implemented");
    TEEC_CloseSession(&s);
}
