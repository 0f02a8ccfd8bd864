/* optee_examples' hello_world TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "hello_world"
#include "example.h"

static const TEEC_UUID hello_world = { 0x8aaaf200, 0x2450, 0x11e4, { 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b } };

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    TEEC_Operation op;
    uint32_t origin;
    /* hello_world: TA_HELLO_WORLD_CMD_INC_VALUE (0) on a VALUE_INOUT. */
    CHECK(TEEC_OpenSession(ctx, &s, &hello_world, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "hello_world open");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 42;
    CHECK(TEEC_InvokeCommand(&s, 0, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 43, "hello_world inc");
    CHECK(TEEC_InvokeCommand(&s, 1, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 42, "hello_world dec");
    TEEC_CloseSession(&s);
}
