/* rproc-tee TA dev kit: the AddressSanitizer self-tests OP-TEE's os_test runs (xtest 1042,
 * under CFG_TA_SANITIZE_KADDRESS). A TA built with -fsanitize=address gets
 * CFG_TA_SANITIZE_KADDRESS=1 and the kit's src/asan_test.c (compiled into the TA, instrumented,
 * with -fsanitize-recover=address): each asan_test_* function makes one bad access of its kind,
 * and asan_call_test() says whether the sanitizer reported it. The daemon's TA hosts must
 * preload the ASan runtime (--ta-preload) and run with ASAN_OPTIONS=halt_on_error=0 (else the
 * first report ends the TA, as it does for any other ASan report). */
#ifndef RPROC_TEE_ASAN_TEST_H
#define RPROC_TEE_ASAN_TEST_H

struct asan_test_ctx {
	/* What a test allocated, freed by asan_test_deinit(). */
	char *pmalloc1;
	char *pmalloc2[3];
	unsigned int reports;
};

void asan_test_init(struct asan_test_ctx *ctx);
void asan_test_deinit(struct asan_test_ctx *ctx);
/* 0 if `test` made the sanitizer report an error, -1 if it did not. */
int asan_call_test(struct asan_test_ctx *ctx, void (*test)(struct asan_test_ctx *ctx), const char *desc);

void asan_test_stack(struct asan_test_ctx *ctx);
void asan_test_global_stat(struct asan_test_ctx *ctx);
void asan_test_global_ro(struct asan_test_ctx *ctx);
void asan_test_global(struct asan_test_ctx *ctx);
void asan_test_malloc(struct asan_test_ctx *ctx);
void asan_test_malloc2(struct asan_test_ctx *ctx);
void asan_test_use_after_free(struct asan_test_ctx *ctx);
void asan_test_memcpy_dst(struct asan_test_ctx *ctx);
void asan_test_memcpy_src(struct asan_test_ctx *ctx);
void asan_test_memset(struct asan_test_ctx *ctx);

#endif
