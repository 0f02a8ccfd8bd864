#define _DEFAULT_SOURCE /* usleep */
/* Drives rproc-tee's kit test TA (Tests/CTAs/kit_test), a C TA built with the installed TA dev
 * kit and served from a --ta-dir: every check against known answers. Prints "ok NAME" per check;
 * exits 1 at the first that fails. With an argument: only that check (the daemon tests run the
 * panics one by one). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>
#include <unistd.h>

#include "../CTAs/kit_test/ta/include/kit_test_ta.h"

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAILED %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static TEEC_Context ctx;
static const TEEC_UUID uuid = KIT_TEST_TA_UUID;

static void open_session(TEEC_Session *s)
{
    uint32_t origin = 0;
    TEEC_Result r = TEEC_OpenSession(&ctx, s, &uuid, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
    CHECK(r == TEEC_SUCCESS, "open session: 0x%x origin %u", r, origin);
}

static TEEC_Result invoke(TEEC_Session *s, uint32_t cmd, TEEC_Operation *op, uint32_t *origin)
{
    uint32_t o = 0;
    TEEC_Result r = TEEC_InvokeCommand(s, cmd, op, &o);
    if (origin)
        *origin = o;
    return r;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void values(TEEC_Session *s)
{
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 6;
    op.params[0].value.b = 7;
    CHECK(invoke(s, KIT_TEST_CMD_VALUES, &op, NULL) == TEEC_SUCCESS, "values");
    CHECK(op.params[0].value.a == 13 && op.params[0].value.b == 42, "values: %u %u", op.params[0].value.a, op.params[0].value.b);
    /* Wrong parameter types: the TA's own BAD_PARAMETERS, origin TRUSTED_APP. */
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    uint32_t origin;
    CHECK(invoke(s, KIT_TEST_CMD_VALUES, &op, &origin) == TEEC_ERROR_BAD_PARAMETERS && origin == TEEC_ORIGIN_TRUSTED_APP, "bad types");
    printf("ok values\n");
}

static void memrefs(TEEC_Session *s)
{
    char text[] = "abcdefgh";
    uint8_t out[32];
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].tmpref.buffer = text;
    op.params[0].tmpref.size = 8;
    op.params[1].tmpref.buffer = out;
    op.params[1].tmpref.size = 8;
    op.params[2].value.a = 20;
    CHECK(invoke(s, KIT_TEST_CMD_MEMREFS, &op, NULL) == TEEC_ERROR_SHORT_BUFFER, "short buffer");
    CHECK(op.params[1].tmpref.size == 20, "needed size %zu", op.params[1].tmpref.size);
    CHECK(!memcmp(text, "hgfedcba", 8), "reversed on SHORT_BUFFER too: %s", text);
    op.params[1].tmpref.size = sizeof(out);
    memset(out, 0, sizeof(out));
    CHECK(invoke(s, KIT_TEST_CMD_MEMREFS, &op, NULL) == TEEC_SUCCESS, "memrefs");
    CHECK(op.params[1].tmpref.size == 20 && out[0] == 0xA5 && out[19] == 0xA5 && out[20] == 0, "output");
    CHECK(!memcmp(text, "abcdefgh", 8), "reversed back: %s", text);
    /* Registered shared memory, whole (read-only view on the TA side for an input). */
    TEEC_SharedMemory shm = { .size = 4096, .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
    CHECK(TEEC_AllocateSharedMemory(&ctx, &shm) == TEEC_SUCCESS, "allocate");
    memset(shm.buffer, 0, shm.size);
    memcpy(shm.buffer, "12", 2);
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT, TEEC_MEMREF_PARTIAL_OUTPUT, TEEC_VALUE_INPUT, TEEC_NONE);
    op.params[0].memref.parent = &shm;
    op.params[0].memref.offset = 0;
    op.params[0].memref.size = 2;
    op.params[1].memref.parent = &shm;
    op.params[1].memref.offset = 100;
    op.params[1].memref.size = 100;
    op.params[2].value.a = 3;
    CHECK(invoke(s, KIT_TEST_CMD_MEMREFS, &op, NULL) == TEEC_SUCCESS, "partial memrefs");
    CHECK(!memcmp(shm.buffer, "21", 2) && ((uint8_t *)shm.buffer)[100] == 0xA5 && ((uint8_t *)shm.buffer)[103] == 0, "shared memory");
    TEEC_ReleaseSharedMemory(&shm);
    printf("ok memrefs\n");
}

static void crypto(TEEC_Session *s)
{
    uint8_t out[64];
    char text[129];
    TEEC_Operation op = { 0 };
    /* FIPS 180-2 "abc". */
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = "abc";
    op.params[0].tmpref.size = 3;
    op.params[1].tmpref.buffer = out;
    op.params[1].tmpref.size = sizeof(out);
    CHECK(invoke(s, KIT_TEST_CMD_SHA256, &op, NULL) == TEEC_SUCCESS && op.params[1].tmpref.size == 32, "sha256");
    hex(out, 32, text);
    CHECK(!strcmp(text, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256 %s", text);
    printf("ok sha256\n");
    /* RFC 4231 test case 4 (a 25-byte key: GP's HMAC-SHA256 keys are 192 to 1024 bits). */
    uint8_t hkey[25], hdata[50];
    for (int i = 0; i < 25; i++)
        hkey[i] = (uint8_t)(i + 1);
    memset(hdata, 0xcd, sizeof(hdata));
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE);
    op.params[0].tmpref.buffer = hkey;
    op.params[0].tmpref.size = sizeof(hkey);
    op.params[1].tmpref.buffer = hdata;
    op.params[1].tmpref.size = sizeof(hdata);
    op.params[2].tmpref.buffer = out;
    op.params[2].tmpref.size = sizeof(out);
    TEEC_Result r = invoke(s, KIT_TEST_CMD_HMAC, &op, NULL);
    CHECK(r == TEEC_SUCCESS && op.params[2].tmpref.size == 32, "hmac: 0x%x", r);
    hex(out, 32, text);
    CHECK(!strcmp(text, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"), "hmac %s", text);
    printf("ok hmac-sha256\n");
    /* FIPS 197 appendix C.1. */
    static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const uint8_t plain[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    op.params[0].tmpref.buffer = (void *)key;
    op.params[0].tmpref.size = 16;
    op.params[1].tmpref.buffer = (void *)plain;
    op.params[1].tmpref.size = 16;
    op.params[2].tmpref.size = sizeof(out);
    r = invoke(s, KIT_TEST_CMD_AES_ECB, &op, NULL);
    CHECK(r == TEEC_SUCCESS && op.params[2].tmpref.size == 16, "aes: 0x%x", r);
    hex(out, 16, text);
    CHECK(!strcmp(text, "69c4e0d86a7b0430d8cdb78070b4c55a"), "aes %s", text);
    printf("ok aes-ecb\n");
    const struct { uint32_t cmd; const char *name; } flows[] = {
        { KIT_TEST_CMD_AES_GCM, "aes-gcm" }, { KIT_TEST_CMD_RSA, "rsa-pss" }, { KIT_TEST_CMD_EC, "ecdsa-ecdh" },
    };
    for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
        TEEC_Operation v = { 0 };
        v.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        TEEC_Result r = invoke(s, flows[i].cmd, &v, NULL);
        CHECK(r == TEEC_SUCCESS && v.params[0].value.a == 1, "%s: 0x%x %u", flows[i].name, r, v.params[0].value.a);
        printf("ok %s\n", flows[i].name);
    }
    /* The other families (kit_test_families.c): one bit each. */
    TEEC_Operation f = { 0 };
    f.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    r = invoke(s, KIT_TEST_CMD_FAMILIES, &f, NULL);
    CHECK(r == TEEC_SUCCESS && f.params[0].value.a == 0x3ff,
          "crypto families: 0x%x, passed 0x%x (bits: digests, aes-cbc/ctr, aes-cmac, 3des, aes-ccm, rsa-oaep/pkcs1, dsa, dh, hkdf/pbkdf2, algorithm helpers)",
          r, f.params[0].value.a);
    printf("ok crypto-families\n");
}

static void storage(TEEC_Session *s)
{
    static const char data[] = "kept by a C TA in trusted storage";
    char back[64] = { 0 };
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE);
    op.params[0].tmpref.buffer = "kit-test-object";
    op.params[0].tmpref.size = 15;
    op.params[1].tmpref.buffer = (void *)data;
    op.params[1].tmpref.size = sizeof(data);
    op.params[2].tmpref.buffer = back;
    op.params[2].tmpref.size = sizeof(back);
    TEEC_Result r = invoke(s, KIT_TEST_CMD_STORAGE, &op, NULL);
    CHECK(r == TEEC_SUCCESS, "storage: 0x%x", r);
    CHECK(op.params[2].tmpref.size == sizeof(data) && !memcmp(back, data, sizeof(data)), "read back %s", back);
    printf("ok storage\n");
}

static void properties(TEEC_Session *s)
{
    char text[256] = { 0 };
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = text;
    op.params[0].tmpref.size = sizeof(text) - 1;
    TEEC_Result r = invoke(s, KIT_TEST_CMD_PROPERTIES, &op, NULL);
    CHECK(r == TEEC_SUCCESS, "properties: 0x%x", r);
    CHECK(!strcmp(text, "rproc-tee kit test TA|1.2|42|built with the kit|0|1|1"), "properties: %s", text);
    printf("ok properties\n");
}

static void time_(TEEC_Session *s)
{
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 100;
    TEEC_Result r = invoke(s, KIT_TEST_CMD_TIME, &op, NULL);
    CHECK(r == TEEC_SUCCESS, "time: 0x%x", r);
    CHECK(op.params[0].value.a >= 100 && op.params[0].value.a < 5000, "waited %u ms", op.params[0].value.a);
    CHECK(op.params[0].value.b == 1, "persistent time");
    printf("ok time\n");
}

static void ta_to_ta(TEEC_Session *s)
{
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 41;
    TEEC_Result r = invoke(s, KIT_TEST_CMD_TA_TO_TA, &op, NULL);
    CHECK(r == TEEC_SUCCESS && op.params[0].value.a == 42 && op.params[0].value.b == TEEC_ORIGIN_TRUSTED_APP, "ta to ta: 0x%x %u",
          r, op.params[0].value.a);
    printf("ok ta-to-ta\n");
}

static void memory(TEEC_Session *s)
{
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    CHECK(invoke(s, KIT_TEST_CMD_MALLOC, &op, NULL) == TEEC_SUCCESS && op.params[0].value.a == 1, "malloc");
    printf("ok malloc\n");
    char buffer[32] = "the client's";
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = buffer;
    op.params[0].tmpref.size = sizeof(buffer);
    CHECK(invoke(s, KIT_TEST_CMD_ACCESS_RIGHTS, &op, NULL) == TEEC_SUCCESS, "access rights");
    CHECK(op.params[1].value.a == 0x1f, "access rights: 0x%x", op.params[1].value.a);
    printf("ok access-rights\n");
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    CHECK(invoke(s, KIT_TEST_CMD_BUILD_FLAGS, &op, NULL) == TEEC_SUCCESS && op.params[0].value.a == 1, "per-file cflags");
    printf("ok build-flags\n");
}

static void libraries_and_arith(TEEC_Session *s)
{
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT, TEEC_NONE);
    TEEC_Result r = invoke(s, KIT_TEST_CMD_LIBRARIES, &op, NULL);
    CHECK(r == TEEC_SUCCESS, "libraries: 0x%x", r);
    /* Constructors ran library first (2), then the TA (1): 0*10+2 = 2, 2*10+1 = 21. */
    CHECK(op.params[0].value.a == 21 && op.params[0].value.b == 5, "DT_NEEDED library: %u %u", op.params[0].value.a, op.params[0].value.b);
    CHECK(op.params[1].value.a == 42 && op.params[1].value.b == 213, "dlopen by UUID: %u %u", op.params[1].value.a, op.params[1].value.b);
    /* __thread data of the library; the TA, its library and the dlopened one, the last value returned. */
    CHECK(op.params[2].value.a == 5, "__thread: %u", op.params[2].value.a);
    CHECK(op.params[2].value.b == (0x80000000u | 3), "dl_iterate_phdr: 0x%x", op.params[2].value.b);
    printf("ok libraries\n");
    uint8_t out[256];
    char text[200];
    memset(&op, 0, sizeof(op));
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT, TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[0].tmpref.buffer = out;
    op.params[0].tmpref.size = sizeof(out);
    r = invoke(s, KIT_TEST_CMD_ARITH, &op, NULL);
    CHECK(r == TEEC_SUCCESS, "arith: 0x%x", r);
    size_t first = (size_t)out[2] << 8 | out[3];
    hex(out + 4, first, text);
    /* 0x0102030405060708090A * 1000, and 3^200 mod 2^61-1 (computed with Python's int). */
    CHECK(!strcmp(text, "03efdbc7b39f8b77634f10"), "product %s", text);
    size_t second = (size_t)out[4 + first + 2] << 8 | out[4 + first + 3];
    hex(out + 8 + first, second, text);
    CHECK(!strcmp(text, "05e3cf3fd8a82b5c"), "exp mod %s", text);
    CHECK(op.params[1].value.a == 2753, "inverse %u", op.params[1].value.a);
    printf("ok arithmetic\n");
    /* The system pseudo-TA derives a key into the TA's own memory, never into its client's. */
    uint8_t key[16];
    memset(&op, 0, sizeof(op));
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_NONE, TEEC_NONE);
    op.params[1].tmpref.buffer = key;
    op.params[1].tmpref.size = sizeof(key);
    CHECK((r = invoke(s, KIT_TEST_CMD_DERIVE_KEY, &op, NULL)) == TEEC_SUCCESS, "derive into the TA: 0x%x", r);
    op.params[0].value.a = 1;
    CHECK((r = invoke(s, KIT_TEST_CMD_DERIVE_KEY, &op, NULL)) == TEEC_ERROR_SECURITY, "derive into the client: 0x%x", r);
    printf("ok derive-key\n");
    /* The TA host's sandbox against the TA itself: no file but its own image (read-only), no socket. */
    memset(&op, 0, sizeof(op));
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    CHECK((r = invoke(s, KIT_TEST_CMD_ESCAPE, &op, NULL)) == TEEC_SUCCESS, "escape: 0x%x", r);
    CHECK(op.params[0].value.a == 0x1ff && op.params[0].value.b == 1, "escapes that did not fail: 0x%x (own image %u)",
          op.params[0].value.a, op.params[0].value.b);
    printf("ok no-escape\n");
}

static TEEC_Session cancel_session;
static TEEC_Operation cancel_op;

static void *canceller(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    TEEC_RequestCancellation(&cancel_op);
    return NULL;
}

static void cancellation(void)
{
    open_session(&cancel_session);
    cancel_op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    cancel_op.params[0].value.a = 20000;
    cancel_op.started = 0;
    pthread_t t;
    pthread_create(&t, NULL, canceller, NULL);
    uint32_t origin;
    TEEC_Result r = invoke(&cancel_session, KIT_TEST_CMD_CANCELLABLE_WAIT, &cancel_op, &origin);
    pthread_join(t, NULL);
    CHECK(r == TEEC_ERROR_CANCEL, "cancelled wait: 0x%x origin %u", r, origin);
    TEEC_CloseSession(&cancel_session);
    printf("ok cancellation\n");
}

/* A panic ends the instance: TARGET_DEAD, origin TEE, for this and every later call. */
static void panic_with(uint32_t cmd, const char *name)
{
    TEEC_Session s;
    open_session(&s);
    TEEC_Operation op = { 0 };
    op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    op.params[0].value.a = 0xdead;
    uint32_t origin;
    TEEC_Result r = invoke(&s, cmd, &op, &origin);
    CHECK(r == TEEC_ERROR_TARGET_DEAD && origin == TEEC_ORIGIN_TEE, "%s: 0x%x origin %u", name, r, origin);
    CHECK(invoke(&s, KIT_TEST_CMD_VALUES, &op, &origin) == TEEC_ERROR_TARGET_DEAD, "%s: still dead", name);
    TEEC_CloseSession(&s);
    printf("ok %s\n", name);
}

int main(int argc, char **argv)
{
    CHECK(TEEC_InitializeContext(NULL, &ctx) == TEEC_SUCCESS, "initialize");
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only && !strcmp(only, "open") && argc > 2) {
        /* kit_test open UUID: OpenSession's result and origin, for the hostile-file tests. */
        TEEC_UUID other;
        unsigned int f[11];
        CHECK(sscanf(argv[2], "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8],
                     &f[9], &f[10]) == 11, "not a UUID: %s", argv[2]);
        other.timeLow = f[0];
        other.timeMid = (uint16_t)f[1];
        other.timeHiAndVersion = (uint16_t)f[2];
        for (int i = 0; i < 8; i++)
            other.clockSeqAndNode[i] = (uint8_t)f[3 + i];
        TEEC_Session s;
        uint32_t origin = 0;
        TEEC_Result r = TEEC_OpenSession(&ctx, &s, &other, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);
        printf("open 0x%x origin %u\n", r, origin);
        if (r == TEEC_SUCCESS)
            TEEC_CloseSession(&s);
    } else if (only && !strcmp(only, "panic")) {
        panic_with(KIT_TEST_CMD_PANIC, "panic");
    } else if (only && !strcmp(only, "bad-handle")) {
        panic_with(KIT_TEST_CMD_BAD_HANDLE, "bad-handle");
    } else if (only && !strcmp(only, "undefined")) {
        /* Signed overflow in a TA built with -fsanitize=undefined -fno-sanitize-recover=all. */
        panic_with(KIT_TEST_CMD_UNDEFINED, "undefined");
    } else if (only && !strcmp(only, "asan-self-tests")) {
        /* The kit's ASan self-tests (xtest 1042's), in a TA built with -fsanitize=address under
         * a daemon whose hosts run with ASAN_OPTIONS=halt_on_error=0: each bad access reported. */
        TEEC_Session s;
        open_session(&s);
        TEEC_Operation op = { 0 };
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        TEEC_Result r = invoke(&s, KIT_TEST_CMD_ASAN_SELF_TESTS, &op, NULL);
        CHECK(r == TEEC_SUCCESS && op.params[0].value.a == 0x3ff, "asan self-tests: 0x%x, caught 0x%x", r, op.params[0].value.a);
        TEEC_CloseSession(&s);
        printf("ok asan-self-tests\n");
    } else if (only && !strcmp(only, "overflow")) {
        /* A heap-buffer-overflow in a TA built with -fsanitize=address. */
        panic_with(KIT_TEST_CMD_OVERFLOW, "overflow");
    } else if (only && !strcmp(only, "zero-malloc")) {
        panic_with(KIT_TEST_CMD_ZERO_MALLOC, "zero-malloc");
    } else if (only && !strcmp(only, "id-in-shm")) {
        /* The object id in the client's memory: a temporary memref, so the TA sees it mapped. */
        TEEC_Session s;
        open_session(&s);
        TEEC_Operation op = { 0 };
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        op.params[0].tmpref.buffer = "an-object-id";
        op.params[0].tmpref.size = 12;
        uint32_t origin;
        TEEC_Result r = invoke(&s, KIT_TEST_CMD_ID_IN_SHM, &op, &origin);
        CHECK(r == TEEC_ERROR_TARGET_DEAD && origin == TEEC_ORIGIN_TEE, "id in shm: 0x%x origin %u", r, origin);
        TEEC_CloseSession(&s);
        printf("ok id-in-shm\n");
    } else {
        TEEC_Session s;
        open_session(&s);
        values(&s);
        memrefs(&s);
        crypto(&s);
        storage(&s);
        properties(&s);
        time_(&s);
        ta_to_ta(&s);
        memory(&s);
        libraries_and_arith(&s);
        TEEC_CloseSession(&s);
        cancellation();
    }
    TEEC_FinalizeContext(&ctx);
    return 0;
}
