/* optee_examples' acipher TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "acipher"
#include "example.h"

static const TEEC_UUID acipher_ta = { 0xa734eed9, 0xd6a1, 0x4244, { 0xaa, 0x50, 0x7c, 0x99, 0x71, 0x9e, 0x7b, 0x7b } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* acipher: ENCRYPT_DECRYPT before GEN_KEY is BAD_STATE; then RSA-2048, and for PKCS#1 v1.5
     * and OAEP-SHA-256 the original host's sequence: a NULL output for the size (SHORT_BUFFER),
     * encrypt, the same for decrypt, and the message back — PKCS#1 v1.5 and OAEP over each of
     * SHA-1, 224, 256, 384 and 512. A flipped OAEP ciphertext bit does not decrypt; an unknown
     * algorithm is NOT_SUPPORTED. */
    CHECK(TEEC_OpenSession(ctx, &s, &acipher_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "acipher open");
    unsigned char rsa_ct[256], rsa_pt[256];
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT);
    op.params[0].tmpref.buffer = "secret";
    op.params[0].tmpref.size = 6;
    op.params[2].value.a = 1;
    op.params[3].value.a = 0x60000130;
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_BAD_STATE, "acipher without a key");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 2048;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS, "acipher gen key");
    static const uint32_t rsaes[6] = { 0x60000130, 0x60210230, 0x60310230, 0x60410230, 0x60510230, 0x60610230 };
    for (int i = 0; i < 6; i++) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT);
        op.params[0].tmpref.buffer = "secret";
        op.params[0].tmpref.size = 6;
        op.params[2].value.a = 1;
        op.params[3].value.a = rsaes[i];
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && origin == TEEC_ORIGIN_TRUSTED_APP && op.params[1].tmpref.size == 256, "acipher %#x encrypt size", rsaes[i]);
        op.params[1].tmpref.buffer = rsa_ct;
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 256, "acipher %#x encrypt", rsaes[i]);
        op.params[0].tmpref.buffer = rsa_ct;
        op.params[0].tmpref.size = 256;
        op.params[1].tmpref.buffer = NULL;
        op.params[1].tmpref.size = 0;
        op.params[2].value.a = 0;
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == 6, "acipher %#x decrypt size", rsaes[i]);
        op.params[1].tmpref.buffer = rsa_pt;
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == 6 && memcmp(rsa_pt, "secret", 6) == 0, "acipher %#x round trip", rsaes[i]);
        /* OAEP only: a flipped v1.5 ciphertext still has valid padding once in ~65,000 keys
         * (the v1.5 refusal is checked with fixed keys in RSAEncryptionTests). */
        if (rsaes[i] != 0x60000130) {
            rsa_ct[200] ^= 0x01;
            op.params[1].tmpref.size = sizeof rsa_pt;
            CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS, "acipher %#x tampered ciphertext", rsaes[i]);
        }
    }
    op.params[3].value.a = 0x60710230;   /* no such algorithm */
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_ERROR_NOT_SUPPORTED, "acipher unknown algorithm");
    TEEC_CloseSession(&s);
}
