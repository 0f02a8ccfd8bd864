/* Shared by the example_*.c programs: the client header, a check that names the line, and
 * main — one context, the program's example() (which opens its sessions), "ok NAME". */
#ifndef RPROC_TEE_EXAMPLE_H
#define RPROC_TEE_EXAMPLE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAILED %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static void example(TEEC_Context *ctx);

int main(void) {
    TEEC_Context ctx;
    CHECK(TEEC_InitializeContext(NULL, &ctx) == TEEC_SUCCESS, "initialize");
    example(&ctx);
    TEEC_FinalizeContext(&ctx);
    printf("ok %s\n", EXAMPLE_NAME);
    return 0;
}
#endif
