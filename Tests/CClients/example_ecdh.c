/* optee_examples' ecdh TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "ecdh"
#include "example.h"

static const TEEC_UUID ecdh_ta = { 0x50c82425, 0x94da, 0x4072, { 0xa3, 0xe0, 0x58, 0xef, 0x06, 0x37, 0x67, 0xc0 } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* ecdh: DERIVE_SELFTEST as the original host calls it (a NULL output for the size first),
     * on each of its curves (P-192, P-224, P-256, P-384); two calls give different secrets (fresh
     * key pairs each time); an unknown curve is BAD_PARAMETERS. */
    CHECK(TEEC_OpenSession(ctx, &s, &ecdh_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "ecdh open");
    unsigned char z1[48], z2[48];   /* outlive the loop: the last calls below still name z2 */
    static const size_t secret_size[4] = { 24, 28, 32, 48 };
    for (uint32_t curve = 0; curve <= 3; curve++) {
        size_t n = secret_size[curve];
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_MEMREF_TEMP_OUTPUT);
        op.params[0].value.a = curve;
        CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_SHORT_BUFFER && op.params[3].tmpref.size == n, "ecdh curve %u size", curve);
        op.params[3].tmpref.buffer = z1;
        CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[3].tmpref.size == n, "ecdh curve %u", curve);
        op.params[3].tmpref.buffer = z2;
        op.params[3].tmpref.size = sizeof z2;
        CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[3].tmpref.size == n && memcmp(z1, z2, n) != 0, "ecdh curve %u again", curve);
    }
    op.params[0].value.a = 9;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS, "ecdh unknown curve");
    TEEC_CloseSession(&s);
}
