/* optee_examples' hotp TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "hotp"
#include "example.h"

static const TEEC_UUID hotp_ta = { 0x484d4143, 0x2d53, 0x4841, { 0x31, 0x20, 0x4a, 0x6f, 0x63, 0x6b, 0x65, 0x42 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* hotp: REGISTER_SHARED_KEY, then GET_HOTP ten times — RFC 4226 Appendix D's values for the
     * secret "12345678901234567890". */
    static const uint32_t rfc4226[10] = { 755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489 };
    CHECK(TEEC_OpenSession(ctx, &s, &hotp_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "hotp open");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = "12345678901234567890";
    op.params[0].tmpref.size = 20;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS, "hotp register key");
    for (int i = 0; i < 10; i++) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == rfc4226[i], "hotp %d: %u", i, op.params[0].value.a);
    }
    TEEC_CloseSession(&s);
}
