/* rproc-tee TA dev kit: the declarations OP-TEE's own KASan tests (optee_test's os_test, under
 * CFG_TA_SANITIZE_KADDRESS) name. rproc-tee's kit has no KASan: a TA is built with the host
 * compiler's -fsanitize=address instead, and these are not provided — a TA that calls them
 * fails to link. */
#ifndef RPROC_TEE_ASAN_TEST_H
#define RPROC_TEE_ASAN_TEST_H

struct asan_test_ctx {
	int reserved;
};

void asan_test_init(struct asan_test_ctx *ctx);
void asan_test_deinit(struct asan_test_ctx *ctx);
int asan_call_test(struct asan_test_ctx *ctx, void (*test)(struct asan_test_ctx *ctx), const char *desc);

#endif
