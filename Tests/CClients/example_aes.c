/* optee_examples' aes TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "aes"
#include "example.h"

static const TEEC_UUID aes_ta = { 0x5dbac793, 0xf574, 0x4871, { 0x8a, 0xd3, 0x04, 0x33, 0x1e, 0xc1, 0x7f, 0x24 } };

static void prepare(TEEC_Session *s, uint32_t algo, uint32_t mode, const unsigned char key[16]) {
    TEEC_Operation op;
    uint32_t origin;
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].value.a = algo;
    op.params[1].value.a = 16;
    op.params[2].value.a = mode;
    CHECK(TEEC_InvokeCommand(s, 0, &op, &origin) == TEEC_SUCCESS, "aes prepare %u %u", algo, mode);
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = (void *)key;
    op.params[0].tmpref.size = 16;
    CHECK(TEEC_InvokeCommand(s, 1, &op, &origin) == TEEC_SUCCESS, "aes set key");
}

/* SET_IV (the original host sets one for every mode; ECB ignores it), then CIPHER. */
static void cipher(TEEC_Session *s, const unsigned char *in, unsigned char *out, size_t size) {
    TEEC_Operation op;
    uint32_t origin;
    unsigned char iv[16] = { 0 };
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = iv;
    op.params[0].tmpref.size = sizeof iv;
    CHECK(TEEC_InvokeCommand(s, 2, &op, &origin) == TEEC_SUCCESS, "aes set iv");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = (void *)in;
    op.params[0].tmpref.size = size;
    op.params[1].tmpref.buffer = out;
    op.params[1].tmpref.size = size;
    CHECK(TEEC_InvokeCommand(s, 3, &op, &origin) == TEEC_SUCCESS && op.params[1].tmpref.size == size, "aes cipher");
}

static void authenc(TEEC_Session *s, uint32_t encrypt, const unsigned char *in, unsigned char *out, size_t size, unsigned char tag[16], TEEC_Result expected) {
    TEEC_Operation op;
    uint32_t origin;
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_MEMREF_TEMP_INOUT);
    op.params[0].tmpref.buffer = (void *)in;
    op.params[0].tmpref.size = size;
    op.params[1].tmpref.buffer = out;
    op.params[1].tmpref.size = size;
    op.params[2].value.a = encrypt;
    op.params[3].tmpref.buffer = tag;
    op.params[3].tmpref.size = 16;
    TEEC_Result r = TEEC_InvokeCommand(s, 4, &op, &origin);
    CHECK(r == expected, "aes authenc %s: 0x%x, expected 0x%x", encrypt ? "encrypt" : "decrypt", r, expected);
    if (expected == TEEC_SUCCESS)
        CHECK(op.params[1].tmpref.size == size && op.params[3].tmpref.size == 16, "aes authenc sizes %zu %zu", op.params[1].tmpref.size, op.params[3].tmpref.size);
}

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* aes: PREPARE (algo, key size, mode), SET_KEY, SET_IV, CIPHER — CBC and CTR round trips,
     * ECB against FIPS-197; CCM and GCM through AUTHENC with a tag. */
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
    /* ECB against FIPS-197 appendix C.1 (AES-128): key 00 01 … 0f, block 00 11 … ff. */
    static const unsigned char fips_key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
    static const unsigned char fips_plain[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    static const unsigned char fips_cipher[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a };
    unsigned char block[16];
    prepare(&s, 0, 1, fips_key);
    cipher(&s, fips_plain, block, sizeof block);
    CHECK(memcmp(block, fips_cipher, sizeof block) == 0, "aes ECB FIPS-197 C.1");
    prepare(&s, 0, 0, fips_key);
    cipher(&s, fips_cipher, block, sizeof block);
    CHECK(memcmp(block, fips_plain, sizeof block) == 0, "aes ECB FIPS-197 C.1 decrypt");

    /* CCM and GCM through AUTHENC (the TA's fixed nonce, a 16-byte tag): round trips, and a
     * flipped tag byte is refused with MAC_INVALID. */
    for (uint32_t algo = 3; algo <= 4; algo++) {
        unsigned char tag[16], sealed[64], opened[64];
        prepare(&s, algo, 1, key);
        authenc(&s, 1, clear, sealed, sizeof sealed, tag, TEEC_SUCCESS);
        CHECK(memcmp(sealed, clear, sizeof sealed) != 0, "aes %s encrypts", algo == 3 ? "CCM" : "GCM");
        prepare(&s, algo, 0, key);
        authenc(&s, 0, sealed, opened, sizeof opened, tag, TEEC_SUCCESS);
        CHECK(memcmp(opened, clear, sizeof opened) == 0, "aes %s round trip", algo == 3 ? "CCM" : "GCM");
        tag[0] ^= 1;
        prepare(&s, algo, 0, key);
        authenc(&s, 0, sealed, opened, sizeof opened, tag, TEE_ERROR_MAC_INVALID);
    }
    TEEC_CloseSession(&s);
}
