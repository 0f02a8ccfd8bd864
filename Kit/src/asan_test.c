/* rproc-tee TA dev kit: AddressSanitizer self-tests for a TA built with -fsanitize=address
 * (include/asan_test.h). Built into the TA by the kit's make, instrumented and recoverable
 * (-fsanitize-recover=address; without UBSan, whose bounds checks would see the same accesses
 * first), so that a report returns here when the host's ASan runs with halt_on_error=0. Each
 * test makes exactly one bad access, through a volatile index or pointer the compiler cannot
 * see through; the report callback counts what ASan reported. */
#include <asan_test.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <trace.h>

#define ASAN_TEST_SIZE 15

/* ASan's runtime (the host preloads it): a function it calls with each report's text. */
void __asan_set_error_report_callback(void (*callback)(const char *));

static unsigned int reports;

static void count_report(const char *report)
{
	(void)report;
	__atomic_add_fetch(&reports, 1, __ATOMIC_RELAXED);
}

static char static_buffer[ASAN_TEST_SIZE];
char asan_test_gbuf[ASAN_TEST_SIZE];
static const char static_ro_buffer[ASAN_TEST_SIZE + 1] = "read-only bytes";
static volatile size_t past_end = ASAN_TEST_SIZE;

void asan_test_stack(struct asan_test_ctx *ctx)
{
	volatile char buffer[ASAN_TEST_SIZE] = { 0 };

	(void)ctx;
	buffer[past_end] = 1;
	(void)buffer[0];
}

void asan_test_global_stat(struct asan_test_ctx *ctx)
{
	(void)ctx;
	((volatile char *)static_buffer)[past_end] = 1;
}

void asan_test_global_ro(struct asan_test_ctx *ctx)
{
	volatile char c = ((const volatile char *)static_ro_buffer)[past_end + 1];

	(void)ctx;
	(void)c;
}

void asan_test_global(struct asan_test_ctx *ctx)
{
	(void)ctx;
	((volatile char *)asan_test_gbuf)[past_end] = 1;
}

void asan_test_malloc(struct asan_test_ctx *ctx)
{
	ctx->pmalloc1 = malloc(ASAN_TEST_SIZE);
	if (ctx->pmalloc1)
		((volatile char *)ctx->pmalloc1)[past_end] = 1;
}

void asan_test_malloc2(struct asan_test_ctx *ctx)
{
	/* Three neighbours of a size ASan pads nothing into: the overflow of the middle one is
	 * caught in the redzone between it and the next. */
	for (size_t i = 0; i < sizeof(ctx->pmalloc2) / sizeof(ctx->pmalloc2[0]); i++) {
		ctx->pmalloc2[i] = malloc(16);
		if (!ctx->pmalloc2[i])
			return;
	}
	((volatile char *)ctx->pmalloc2[1])[past_end + 1] = 1;
}

void asan_test_use_after_free(struct asan_test_ctx *ctx)
{
	volatile char *p = malloc(ASAN_TEST_SIZE);
	void (*volatile release)(void *) = free;

	(void)ctx;
	if (!p)
		return;
	release((void *)(uintptr_t)p);
	p[0] = 1;
}

void asan_test_memcpy_dst(struct asan_test_ctx *ctx)
{
	static char source[ASAN_TEST_SIZE + 1];
	static char destination[ASAN_TEST_SIZE];
	void *(*volatile copy)(void *, const void *, size_t) = memcpy;

	(void)ctx;
	copy(destination, source, sizeof(source));
}

void asan_test_memcpy_src(struct asan_test_ctx *ctx)
{
	static char destination[ASAN_TEST_SIZE + 1];
	static char source[ASAN_TEST_SIZE];
	void *(*volatile copy)(void *, const void *, size_t) = memcpy;

	(void)ctx;
	copy(destination, source, sizeof(destination));
}

void asan_test_memset(struct asan_test_ctx *ctx)
{
	static char buffer[ASAN_TEST_SIZE];
	void *(*volatile set)(void *, int, size_t) = memset;

	(void)ctx;
	set(buffer, 0xab, ASAN_TEST_SIZE + 1);
}

void asan_test_init(struct asan_test_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	__asan_set_error_report_callback(count_report);
}

void asan_test_deinit(struct asan_test_ctx *ctx)
{
	free(ctx->pmalloc1);
	for (size_t i = 0; i < sizeof(ctx->pmalloc2) / sizeof(ctx->pmalloc2[0]); i++)
		free(ctx->pmalloc2[i]);
	memset(ctx, 0, sizeof(*ctx));
	__asan_set_error_report_callback(NULL);
}

int asan_call_test(struct asan_test_ctx *ctx, void (*test)(struct asan_test_ctx *ctx), const char *desc)
{
	unsigned int before = __atomic_load_n(&reports, __ATOMIC_RELAXED);

	test(ctx);
	int caught = __atomic_load_n(&reports, __ATOMIC_RELAXED) != before;
	ctx->reports += (unsigned int)caught;
	IMSG("  => [asan] test %s: %s", desc, caught ? "ok" : "FAILED");
	return caught ? 0 : -1;
}
