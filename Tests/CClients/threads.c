/* Two threads on one context, cancellation from another thread (during and before the call),
 * 100 threads calling at once on one session (more than the 64 channels a context opens: the
 * calls past them wait for a channel, as OP-TEE's driver queues them), and — with argument
 * "block" — a client that blocks in a call until it is killed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tee_client_api.h>

static const TEEC_UUID hello = { 0x8aaaf200, 0x2450, 0x11e4, { 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b } };
enum { CMD_INC = 0, CMD_WAIT = 6 };
static TEEC_Context ctx;

static void *counter(void *arg) {
    TEEC_Session s;
    uint32_t origin;
    if (TEEC_OpenSession(&ctx, &s, &hello, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) != TEEC_SUCCESS) return (void *)1;
    for (uint32_t i = 0; i < 2000; i++) {
        TEEC_Operation op;
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        op.params[0].value.a = i + (uint32_t)(uintptr_t)arg;
        if (TEEC_InvokeCommand(&s, CMD_INC, &op, &origin) != TEEC_SUCCESS || op.params[0].value.a != i + (uint32_t)(uintptr_t)arg + 1) return (void *)1;
    }
    TEEC_CloseSession(&s);
    return NULL;
}

static TEEC_Session shared;
static void *crowd(void *arg) {
    uint32_t origin, base = (uint32_t)(uintptr_t)arg * 1000;
    for (uint32_t i = 0; i < 100; i++) {
        TEEC_Operation op;
        memset(&op, 0, sizeof op);
        op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        op.params[0].value.a = base + i;
        TEEC_Result res = TEEC_InvokeCommand(&shared, CMD_INC, &op, &origin);
        if (res != TEEC_SUCCESS || op.params[0].value.a != base + i + 1) {
            printf("FAILED crowd thread %u call %u: %#x origin %u\n", base / 1000, i, res, origin);
            return (void *)1;
        }
    }
    return NULL;
}

static TEEC_Operation waiting;
static void *canceller(void *arg) {
    (void)arg;
    usleep(150 * 1000);
    TEEC_RequestCancellation(&waiting);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    uint32_t origin;
    if (TEEC_InitializeContext(NULL, &ctx) != TEEC_SUCCESS) { printf("FAILED initialize\n"); return 1; }
    TEEC_Session s;
    if (TEEC_OpenSession(&ctx, &s, &hello, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin) != TEEC_SUCCESS) { printf("FAILED open\n"); return 1; }
    if (argc > 1 && strcmp(argv[1], "block") == 0) {
        memset(&waiting, 0, sizeof waiting);
        waiting.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
        waiting.params[0].value.a = 60000;
        printf("ready\n");
        fflush(stdout);
        TEEC_InvokeCommand(&s, CMD_WAIT, &waiting, &origin);
        return 0;
    }
    pthread_t a, b, c;
    pthread_create(&a, NULL, counter, (void *)(uintptr_t)0);
    pthread_create(&b, NULL, counter, (void *)(uintptr_t)1000000);
    /* Cancellation during the call. */
    memset(&waiting, 0, sizeof waiting);
    waiting.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    waiting.params[0].value.a = 30000;
    pthread_create(&c, NULL, canceller, NULL);
    double t0 = now();
    TEEC_Result res = TEEC_InvokeCommand(&s, CMD_WAIT, &waiting, &origin);
    double took = now() - t0;
    pthread_join(c, NULL);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    if (res != TEEC_ERROR_CANCEL || origin != TEEC_ORIGIN_TRUSTED_APP || took > 5) { printf("FAILED cancel during: %#x origin %u after %.2f s\n", res, origin, took); return 1; }
    if (ra || rb) { printf("FAILED threads\n"); return 1; }
    /* Cancellation before the call starts. */
    TEEC_Operation early;
    memset(&early, 0, sizeof early);
    early.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
    early.params[0].value.a = 30000;
    TEEC_RequestCancellation(&early);
    t0 = now();
    res = TEEC_InvokeCommand(&s, CMD_WAIT, &early, &origin);
    if (res != TEEC_ERROR_CANCEL || now() - t0 > 5) { printf("FAILED cancel before: %#x\n", res); return 1; }
    /* Red-team L1: 100 threads at once on one session of one context. */
    shared = s;
    pthread_t many[100];
    for (uintptr_t i = 0; i < 100; i++) pthread_create(&many[i], NULL, crowd, (void *)i);
    int crowdFailed = 0;
    for (int i = 0; i < 100; i++) {
        void *r;
        pthread_join(many[i], &r);
        if (r) crowdFailed = 1;
    }
    if (crowdFailed) return 1;
    TEEC_CloseSession(&s);
    TEEC_FinalizeContext(&ctx);
    printf("ok threads %.3f s to cancel\n", took);
    return 0;
}
