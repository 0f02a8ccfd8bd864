/* optee_examples' sign_verify TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "sign_verify"
#include "example.h"

static const TEEC_UUID sign_verify_ta = { 0xf066f150, 0x42af, 0x404f, { 0xae, 0x32, 0xc8, 0xe6, 0xcd, 0x11, 0x7e, 0x70 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* sign_verify: each of the original's ten variants (TA_ALG_* 0–4 PSS, 5–9 PKCS#1 v1.5 over
     * SHA-1, 224, 256, 384, 512), with a 1024-bit key (2048 for PSS over SHA-512, whose 64-byte
     * salt and hash do not fit 1024 bits), then SHORT_BUFFER with the size; 10 is unknown. */
    CHECK(TEEC_OpenSession(ctx, &s, &sign_verify_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "sign_verify open");
    unsigned char rsa_sig[512];
    for (uint32_t alg = 0; alg <= 9; alg++) {
        uint32_t bits = alg == 4 ? 2048 : 1024;
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT);
        op.params[0].tmpref.buffer = "message";
        op.params[0].tmpref.size = 7;
        op.params[1].tmpref.buffer = rsa_sig;
        op.params[1].tmpref.size = sizeof rsa_sig;
        op.params[2].value.a = alg;
        op.params[3].value.a = bits;
        TEEC_Result r = TEEC_InvokeCommand(&s, 0, &op, &origin);
        CHECK(r == TEEC_SUCCESS && op.params[1].tmpref.size == bits / 8, "sign_verify alg %u: 0x%x, %zu bytes", alg, r, op.params[1].tmpref.size);
    }
    op.params[2].value.a = 10;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS, "sign_verify unknown algorithm");
    op.params[2].value.a = 7;
    op.params[3].value.a = 2048;
    op.params[1].tmpref.size = 10;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == 256, "sign_verify short buffer");
    TEEC_CloseSession(&s);
}
