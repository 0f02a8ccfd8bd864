/* optee_examples' secure_storage TA (our Swift port), called as its original host program calls it —
 * our own program, written from the example's interface: UUID, command ids, parameter layouts. */
#define EXAMPLE_NAME "secure_storage"
#include "example.h"

static const TEEC_UUID storage_ta = { 0xf4e750bb, 0x1437, 0x4fbf, { 0x87, 0x85, 0x8d, 0x35, 0x80, 0xc3, 0x49, 0x94 } };

static TEEC_Result storage(TEEC_Session *s, uint32_t cmd, const char *id, void *data, size_t *size, uint32_t types) {
    TEEC_Operation op;
    uint32_t origin;
    memset(&op, 0, sizeof op);
    op.paramTypes = types;
    op.params[0].tmpref.buffer = (void *)id;
    op.params[0].tmpref.size = strlen(id);
    op.params[1].tmpref.buffer = data;
    op.params[1].tmpref.size = size ? *size : 0;
    TEEC_Result res = TEEC_InvokeCommand(s, cmd, &op, &origin);
    if (size) *size = op.params[1].tmpref.size;
    return res;
}

static void example(TEEC_Context *ctx) {
    TEEC_Session s;
    uint32_t origin;
    /* secure_storage: WRITE_RAW (1), READ_RAW (0) with SHORT_BUFFER first, DELETE (2). */
    const uint32_t in_in = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE);
    const uint32_t in_out = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    const uint32_t in_only = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    CHECK(TEEC_OpenSession(ctx, &s, &storage_ta, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) == TEEC_SUCCESS, "secure_storage open");
    char data[64] = "secret object data", back[64] = { 0 };
    size_t n = strlen(data);
    CHECK(storage(&s, 1, "object#1", data, &n, in_in) == TEEC_SUCCESS, "write");
    n = 4;
    CHECK(storage(&s, 0, "object#1", back, &n, in_out) == TEEC_ERROR_SHORT_BUFFER && n == strlen(data), "short read asks for %zu", n);
    n = sizeof back;
    CHECK(storage(&s, 0, "object#1", back, &n, in_out) == TEEC_SUCCESS && n == strlen(data) && memcmp(back, data, n) == 0, "read back");
    CHECK(storage(&s, 2, "object#1", NULL, NULL, in_only) == TEEC_SUCCESS, "delete");
    n = sizeof back;
    CHECK(storage(&s, 0, "object#1", back, &n, in_out) == TEEC_ERROR_ITEM_NOT_FOUND, "gone after delete");
    CHECK(storage(&s, 9, "object#1", back, &n, in_out) == TEEC_ERROR_BAD_PARAMETERS, "unknown command, as the original");
    TEEC_CloseSession(&s);
}
