/* Every function of tee_client_api.h against rproc-tee's daemon and the hello-world TA, each
 * parameter type and memory-reference kind, and their error paths. Prints "ok N" on success,
 * the first failed check otherwise. Our own test program (not OP-TEE's). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tee_client_api.h>
#include <tee_client_api_extensions.h>

/* xtest defines this itself, after including the header: a drop-in header must not define it
   (with -Werror the redefinition fails the build), and this file is compiled with -Werror. */
#define TEEC_OPERATION_INITIALIZER { }

/* OP-TEE's libteec exports its trace function (teec_trace.h is internal to optee_client; its
   libckteec links against the symbol). */
extern void _dprintf(const char *function, int line, int level, const char *prefix, const char *fmt, ...);

static int checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { printf("FAILED %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static const TEEC_UUID hello = { 0x8aaaf200, 0x2450, 0x11e4, { 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b } };
static const TEEC_UUID nobody = { 0x12345678, 0, 0, { 0 } };
/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
static const unsigned char abc_sha256[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
enum { CMD_INC = 0, CMD_DEC = 1, CMD_SHA256 = 2, CMD_RANDOM = 3 };

int main(void) {
    TEEC_Context ctx;
    TEEC_Session sess;
    TEEC_Operation op;
    uint32_t origin = 0;
    TEEC_Result res;
    TEEC_Operation initialized = TEEC_OPERATION_INITIALIZER;
    (void)initialized;
    _dprintf(__func__, __LINE__, 4, "api", "a flow-level line, not printed at the default level %d\n", 1);

    CHECK(TEEC_InitializeContext("not-a-tee", &ctx) == TEEC_ERROR_ITEM_NOT_FOUND, "a TEE name other than optee-tz");
    CHECK(TEEC_InitializeContext(NULL, NULL) == TEEC_ERROR_BAD_PARAMETERS, "NULL context");
    CHECK((res = TEEC_InitializeContext("optee-tz", &ctx)) == TEEC_SUCCESS, "initialize: %#x", res);
    CHECK(ctx.imp.memref_null, "memref_null");

    res = TEEC_OpenSession(&ctx, &sess, &nobody, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
    CHECK(res == TEEC_ERROR_ITEM_NOT_FOUND && origin == TEEC_ORIGIN_TEE, "unknown TA: %#x origin %u", res, origin);
    res = TEEC_OpenSession(&ctx, &sess, &hello, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
    CHECK(res == TEEC_SUCCESS && origin == TEEC_ORIGIN_TRUSTED_APP, "open: %#x origin %u", res, origin);

    /* Values. */
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 41;
    CHECK(TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 42, "increment");
    CHECK(TEEC_InvokeCommand(&sess, CMD_DEC, &op, NULL) == TEEC_SUCCESS && op.params[0].value.a == 41, "decrement, NULL origin");
    CHECK(TEEC_InvokeCommand(&sess, 99, &op, &origin) == TEEC_ERROR_NOT_SUPPORTED && origin == TEEC_ORIGIN_TRUSTED_APP, "unknown command");

    /* Temporary memrefs, SHORT_BUFFER with the size written back, a NULL output buffer. */
    unsigned char digest[32];
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = "abc";
    op.params[0].tmpref.size = 3;
    op.params[1].tmpref.buffer = digest;
    op.params[1].tmpref.size = sizeof digest;
    CHECK(TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin) == TEEC_SUCCESS && memcmp(digest, abc_sha256, 32) == 0, "sha256 temp");
    op.params[1].tmpref.size = 8;
    res = TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin);
    CHECK(res == TEEC_ERROR_SHORT_BUFFER && origin == TEEC_ORIGIN_TRUSTED_APP && op.params[1].tmpref.size == 32, "short buffer: %#x size %zu", res, op.params[1].tmpref.size);
    op.params[1].tmpref.buffer = NULL;
    op.params[1].tmpref.size = 0;
    res = TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin);
    CHECK(res == TEEC_ERROR_SHORT_BUFFER && op.params[1].tmpref.size == 32, "NULL output buffer asks for the size: %#x", res);

    /* Allocated shared memory: partial and whole references, zero copy. */
    TEEC_SharedMemory shm = { .size = 64, .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
    CHECK(TEEC_AllocateSharedMemory(&ctx, &shm) == TEEC_SUCCESS && shm.buffer != NULL, "allocate");
    memcpy(shm.buffer, "abc", 3);
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &shm;
    op.params[0].memref.offset = 0;
    op.params[0].memref.size = 3;
    op.params[1].tmpref.buffer = digest;
    op.params[1].tmpref.size = sizeof digest;
    memset(digest, 0, sizeof digest);
    CHECK(TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin) == TEEC_SUCCESS && memcmp(digest, abc_sha256, 32) == 0, "sha256 of allocated memory");
    op.params[0].memref.offset = 62;
    op.params[0].memref.size = 3;
    res = TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin);
    CHECK(res == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_API, "partial outside its parent: %#x origin %u", res, origin);
    /* A whole reference takes its direction from the memory's flags: output-only memory is a
     * MEMREF_OUTPUT for the TA (the in/out one above would be MEMREF_INOUT, which RANDOM refuses). */
    TEEC_SharedMemory sink = { .size = 64, .flags = TEEC_MEM_OUTPUT };
    CHECK(TEEC_AllocateSharedMemory(&ctx, &sink) == TEEC_SUCCESS, "allocate output memory");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &sink;
    memset(sink.buffer, 0, 64);
    CHECK(TEEC_InvokeCommand(&sess, CMD_RANDOM, &op, &origin) == TEEC_SUCCESS && op.params[0].memref.size == 64, "random into whole allocated memory");
    int nonzero = 0;
    for (int i = 0; i < 64; i++) nonzero |= ((unsigned char *)sink.buffer)[i];
    CHECK(nonzero, "the TA wrote straight into the allocated memory");
    op.params[0].memref.parent = &shm;
    res = TEEC_InvokeCommand(&sess, CMD_RANDOM, &op, &origin);
    CHECK(res == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_TRUSTED_APP, "whole in/out memory is MEMREF_INOUT: %#x", res);
    TEEC_ReleaseSharedMemory(&sink);

    /* Registered memory (a shadow region copied in and out), direction checks. */
    unsigned char user_in[3] = { 'a', 'b', 'c' }, user_out[32] = { 0 };
    TEEC_SharedMemory in = { .buffer = user_in, .size = 3, .flags = TEEC_MEM_INPUT };
    TEEC_SharedMemory out = { .buffer = user_out, .size = 32, .flags = TEEC_MEM_OUTPUT };
    CHECK(TEEC_RegisterSharedMemory(&ctx, &in) == TEEC_SUCCESS && TEEC_RegisterSharedMemory(&ctx, &out) == TEEC_SUCCESS, "register");
    unsigned char any[4] = { 0 };
    TEEC_SharedMemory huge_alloc = { .size = SIZE_MAX, .flags = TEEC_MEM_INPUT };
    TEEC_SharedMemory huge_reg = { .buffer = any, .size = SIZE_MAX, .flags = TEEC_MEM_INPUT };
    CHECK(TEEC_AllocateSharedMemory(&ctx, &huge_alloc) == TEEC_ERROR_OUT_OF_MEMORY && TEEC_RegisterSharedMemory(&ctx, &huge_reg) == TEEC_ERROR_OUT_OF_MEMORY,
          "SIZE_MAX bytes of shared memory: OUT_OF_MEMORY (as OP-TEE's library)");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = any;
    op.params[0].tmpref.size = SIZE_MAX;
    op.params[1].tmpref.buffer = digest;
    op.params[1].tmpref.size = sizeof digest;
    res = TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin);
    CHECK(res == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_API, "a SIZE_MAX temporary memref: refused, not read: %#x", res);
    TEEC_SharedMemory null_in = { .buffer = NULL, .size = 0, .flags = TEEC_MEM_INPUT };
    TEEC_SharedMemory null_out = { .buffer = NULL, .size = 0, .flags = TEEC_MEM_OUTPUT };
    CHECK(TEEC_RegisterSharedMemory(&ctx, &null_in) == TEEC_ERROR_BAD_PARAMETERS && TEEC_RegisterSharedMemory(&ctx, &null_out) == TEEC_ERROR_BAD_PARAMETERS,
          "a NULL buffer is refused, of size 0 too (as OP-TEE's library)");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &in;
    op.params[1].memref.parent = &out;
    CHECK(TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin) == TEEC_SUCCESS && memcmp(user_out, abc_sha256, 32) == 0, "sha256 registered in → registered out");
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &in;
    op.params[0].memref.size = 3;
    res = TEEC_InvokeCommand(&sess, CMD_RANDOM, &op, &origin);
    CHECK(res == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_API, "output through input-only memory: %#x origin %u", res, origin);

    /* Memory from a file descriptor (the extension). */
    int fd = memfd_create("api-test", MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && write(fd, "abc", 3) == 3 && ftruncate(fd, 3) == 0, "memfd");
    TEEC_SharedMemory fdm = { .flags = TEEC_MEM_INPUT };
    CHECK(TEEC_RegisterSharedMemoryFileDescriptor(&ctx, &fdm, fd) == TEEC_SUCCESS && fdm.size == 3 && fdm.buffer == NULL, "register fd");
    /* Red-team H1: once registered, the memfd takes no further seal (a write seal added now would
       make a TA's writable window onto it fail to map, and used to end the TA's process). */
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == -1 && errno == EPERM, "a write seal after registering is refused");
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &fdm;
    op.params[1].tmpref.buffer = digest;
    op.params[1].tmpref.size = sizeof digest;
    memset(digest, 0, sizeof digest);
    CHECK(TEEC_InvokeCommand(&sess, CMD_SHA256, &op, &origin) == TEEC_SUCCESS && memcmp(digest, abc_sha256, 32) == 0, "sha256 of fd memory");
    CHECK(TEEC_RegisterSharedMemoryFileDescriptor(&ctx, &fdm, -1) == TEEC_ERROR_BAD_PARAMETERS, "bad fd");

    /* Bad flags, released memory, a bad parameter type. */
    TEEC_SharedMemory bad = { .size = 8, .flags = 4 };
    CHECK(TEEC_AllocateSharedMemory(&ctx, &bad) == TEEC_ERROR_BAD_PARAMETERS, "bad flags");
    TEEC_ReleaseSharedMemory(&shm);
    TEEC_ReleaseSharedMemory(&shm);
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].memref.parent = &shm;
    res = TEEC_InvokeCommand(&sess, CMD_RANDOM, &op, &origin);
    CHECK(res == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_API, "released memory: %#x", res);
    op.paramTypes = 0x4;
    CHECK(TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_API, "undefined parameter type");

    /* Red-team M5, fork(): the child's use of its parent's context is refused (BAD_STATE, origin
       API) and touches nothing of the parent's; the parent's next calls get their own replies
       (before, the parent's next call returned the child's reply). A new context works in the
       child. */
    memset(&op, 0, sizeof op);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 1;
    CHECK(TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 2, "inc before fork");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        op.params[0].value.a = 100;
        res = TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin);
        if (res != TEEC_ERROR_BAD_STATE || origin != TEEC_ORIGIN_API) _exit(10);
        TEEC_Context own;
        TEEC_Session mine;
        if (TEEC_InitializeContext(NULL, &own) != TEEC_SUCCESS) _exit(11);
        if (TEEC_OpenSession(&own, &mine, &hello, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) != TEEC_SUCCESS) _exit(12);
        op.params[0].value.a = 100;
        if (TEEC_InvokeCommand(&mine, CMD_INC, &op, &origin) != TEEC_SUCCESS || op.params[0].value.a != 101) _exit(13);
        TEEC_CloseSession(&mine);
        TEEC_FinalizeContext(&own);
        _exit(0);
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child: status %d", status);
    op.params[0].value.a = 5;
    CHECK(TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 6, "the parent after fork: %u", op.params[0].value.a);
    op.params[0].value.a = 7;
    CHECK(TEEC_InvokeCommand(&sess, CMD_INC, &op, &origin) == TEEC_SUCCESS && op.params[0].value.a == 8, "and again: %u", op.params[0].value.a);

    TEEC_ReleaseSharedMemory(&in);
    TEEC_ReleaseSharedMemory(&out);
    TEEC_ReleaseSharedMemory(&fdm);
    close(fd);
    TEEC_CloseSession(&sess);
    TEEC_CloseSession(&sess);
    TEEC_FinalizeContext(&ctx);
    printf("ok %d\n", checks);
    return 0;
}
