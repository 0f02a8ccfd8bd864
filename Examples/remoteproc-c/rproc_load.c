/*
 * rproc_load: what Linux's remoteproc_tee driver does, through libteec — a C program of our own
 * against rproc-tee's tee_client_api.h. It opens a session to the remoteproc TA as the
 * normal-world kernel (login REE_KERNEL: the daemon grants it to its --kernel-uid users only),
 * puts the signed image in allocated shared memory (zero copy), then LOAD_FW, GET_RSC_TABLE,
 * START_FW, STOP_FW, RELEASE_FW — printing each step's result.
 *
 *   cc rproc_load.c $(pkg-config --cflags --libs teec) -o rproc_load
 *   rproc-tee secure-world --trusted-key Keys/dev-rsa2048.pub.pem &
 *   ./rproc_load fw.sig [rproc-id]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

/* The remoteproc TA's interface (OP-TEE's ta_remoteproc.h facts: UUID, commands, layouts). */
static const TEEC_UUID remoteproc_ta = { 0x80a4c275, 0x0a47, 0x4905, { 0x82, 0x85, 0x14, 0x86, 0xa9, 0x77, 0x1a, 0x08 } };
enum { LOAD_FW = 1, START_FW = 2, STOP_FW = 3, GET_RSC_TABLE = 4, RELEASE_FW = 6 };

static int step(TEEC_Session *s, const char *name, uint32_t cmd, TEEC_Operation *op) {
    uint32_t origin = 0;
    TEEC_Result res = TEEC_InvokeCommand(s, cmd, op, &origin);
    printf("%-14s %s (0x%08x, origin %u)\n", name, res == TEEC_SUCCESS ? "ok" : "refused", res, origin);
    return res == TEEC_SUCCESS;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: rproc_load fw.sig [rproc-id]\n");
        return 64;
    }
    uint32_t id = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 66; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);

    TEEC_Context ctx;
    TEEC_Session s;
    uint32_t origin = 0;
    TEEC_Result res = TEEC_InitializeContext(NULL, &ctx);
    if (res != TEEC_SUCCESS) { fprintf(stderr, "no TEE (is rproc-tee secure-world running?): 0x%08x\n", res); return 1; }
    TEEC_Operation op;
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = id;
    res = TEEC_OpenSession(&ctx, &s, &remoteproc_ta, TEE_LOGIN_REE_KERNEL, NULL, &op, &origin);
    if (res != TEEC_SUCCESS) { fprintf(stderr, "open session as the kernel: 0x%08x origin %u\n", res, origin); return 1; }

    /* The image goes into memory the TEE maps: no copy on its way to the TA. */
    TEEC_SharedMemory image = { .size = (size_t)size, .flags = TEEC_MEM_INPUT };
    if (TEEC_AllocateSharedMemory(&ctx, &image) != TEEC_SUCCESS || fread(image.buffer, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot share the image\n");
        return 1;
    }
    fclose(f);

    int ok = 1;
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_MEMREF_WHOLE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = id;
    op.params[1].memref.parent = &image;
    ok = step(&s, "LOAD_FW", LOAD_FW, &op);
    if (ok) {
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT, TEEC_NONE);
        op.params[0].value.a = id;
        if (step(&s, "GET_RSC_TABLE", GET_RSC_TABLE, &op))
            printf("  resource table at PA 0x%08x%08x, %u bytes\n", op.params[1].value.b, op.params[1].value.a, op.params[2].value.a);
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        op.params[0].value.a = id;
        ok = step(&s, "START_FW", START_FW, &op) && step(&s, "STOP_FW", STOP_FW, &op);
    }
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = id;
    ok = step(&s, "RELEASE_FW", RELEASE_FW, &op) && ok;
    TEEC_ReleaseSharedMemory(&image);
    TEEC_CloseSession(&s);
    TEEC_FinalizeContext(&ctx);
    return ok ? 0 : 1;
}
