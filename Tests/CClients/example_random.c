/* optee_examples' random TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "random"
#include "example.h"

static const TEEC_UUID random_ta = { 0xb6c53aba, 0x9669, 0x4668, { 0xa7, 0xf2, 0x20, 0x56, 0x29, 0xd0, 0x0f, 0x86 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* random: TA_RANDOM_CMD_GENERATE (0) fills a MEMREF_TEMP_OUTPUT; two draws differ. */
    unsigned char a[16] = { 0 }, b[16] = { 0 };
    CHECK(TEEC_OpenSession(ctx, &s, &random_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "random open");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = a;
    op.params[0].tmpref.size = sizeof a;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS, "random generate");
    op.params[0].tmpref.buffer = b;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && memcmp(a, b, sizeof a) != 0, "two random draws differ");
    TEEC_CloseSession(&s);
}
