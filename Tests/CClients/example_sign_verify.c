/* optee_examples' sign_verify TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "sign_verify"
#include "example.h"

static const TEEC_UUID sign_verify_ta = { 0xf066f150, 0x42af, 0x404f, { 0xae, 0x32, 0xc8, 0xe6, 0xcd, 0x11, 0x7e, 0x70 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* sign_verify: RSA-2048 PSS and PKCS#1 v1.5 with SHA-256, SHORT_BUFFER with the size. */
    CHECK(TEEC_OpenSession(ctx, &s, &sign_verify_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "sign_verify open");
    unsigned char rsa_sig[512];
    for (uint32_t alg = 2; alg <= 7; alg += 5) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT);
        op.params[0].tmpref.buffer = "message";
        op.params[0].tmpref.size = 7;
        op.params[1].tmpref.buffer = rsa_sig;
        op.params[1].tmpref.size = sizeof rsa_sig;
        op.params[2].value.a = alg;
        op.params[3].value.a = 2048;
        CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 256, "sign_verify alg %u", alg);
    }
    op.params[1].tmpref.size = 10;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == 256, "sign_verify short buffer");
    TEEC_CloseSession(&s);
}
