/* rproc-tee's kit test TA: libraries (DT_NEEDED by UUID, dlopen by UUID, constructors,
 * __thread, dl_iterate_phdr), arithmetic, and what OP-TEE ends a TA for. */
#include <asan_test.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>
#include <link.h>
#include <string.h>
#include <pta_system.h>
#include <tee_internal_api.h>

#include <kit_test_ta.h>
#include <kit_test_lib.h>

TEE_Result kit_test_more(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS]);

int kit_test_global;

static void __attribute__((constructor)) kit_test_init(void)
{
	kit_test_global = kit_test_global * 10 + 1;
}

static int count_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	(*(int *)data)++;
	return 123;
}

static TEE_Result libraries(TEE_Param p[TEE_NUM_PARAMS])
{
	p[0].value.a = kit_test_global;
	p[0].value.b = kit_test_lib_add(2, 3);
	void *handle = dlopen("8c2d3e4f-5061-4b72-9c83-a4b5c6d7e8f9", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
	if (!handle)
		return TEE_ERROR_ITEM_NOT_FOUND;
	int (*mul)(int, int) = (int (*)(int, int))dlsym(handle, "kit_test_dl_mul");
	if (!mul)
		return TEE_ERROR_ITEM_NOT_FOUND;
	p[1].value.a = mul(6, 7);
	p[1].value.b = kit_test_global;
	int modules = 0;
	int last = dl_iterate_phdr(count_module, &modules);
	p[2].value.a = kit_test_lib_tls;
	p[2].value.b = (uint32_t)modules | (last == 123 ? 0x80000000u : 0);
	return TEE_SUCCESS;
}

static void put(uint8_t **at, const TEE_BigInt *n)
{
	size_t len = 64;
	if (TEE_BigIntConvertToOctetString(*at + 4, &len, n) != TEE_SUCCESS)
		TEE_Panic(TEE_ERROR_SHORT_BUFFER);
	(*at)[0] = 0;
	(*at)[1] = 0;
	(*at)[2] = (uint8_t)(len >> 8);
	(*at)[3] = (uint8_t)len;
	*at += 4 + len;
}

static TEE_Result arith(TEE_Param p[TEE_NUM_PARAMS])
{
	static const uint8_t value[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const uint8_t mersenne[] = { 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	TEE_BigInt a[TEE_BigIntSizeInU32(128)], b[TEE_BigIntSizeInU32(32)], c[TEE_BigIntSizeInU32(256)];
	TEE_BigInt n[TEE_BigIntSizeInU32(64)], base[TEE_BigIntSizeInU32(32)], e[TEE_BigIntSizeInU32(32)], r[TEE_BigIntSizeInU32(64)];
	TEE_BigIntInit(a, TEE_BigIntSizeInU32(128));
	TEE_BigIntInit(b, TEE_BigIntSizeInU32(32));
	TEE_BigIntInit(c, TEE_BigIntSizeInU32(256));
	TEE_BigIntInit(n, TEE_BigIntSizeInU32(64));
	TEE_BigIntInit(base, TEE_BigIntSizeInU32(32));
	TEE_BigIntInit(e, TEE_BigIntSizeInU32(32));
	TEE_BigIntInit(r, TEE_BigIntSizeInU32(64));
	TEE_Result res = TEE_BigIntConvertFromOctetString(a, value, sizeof(value), 1);
	if (res != TEE_SUCCESS)
		return res;
	TEE_BigIntConvertFromS32(b, 1000);
	TEE_BigIntMul(c, a, b);
	if ((res = TEE_BigIntConvertFromOctetString(n, mersenne, sizeof(mersenne), 1)) != TEE_SUCCESS)
		return res;
	TEE_BigIntConvertFromS32(base, 3);
	TEE_BigIntConvertFromS32(e, 200);
	if ((res = TEE_BigIntExpMod(r, base, e, n, NULL)) != TEE_SUCCESS)
		return res;
	uint8_t *at = p[0].memref.buffer;
	if (p[0].memref.size < 2 * (4 + 64))
		return TEE_ERROR_SHORT_BUFFER;
	put(&at, c);
	put(&at, r);
	p[0].memref.size = (size_t)(at - (uint8_t *)p[0].memref.buffer);
	TEE_BigInt m[TEE_BigIntSizeInU32(32)], x[TEE_BigIntSizeInU32(32)], inv[TEE_BigIntSizeInU32(32)];
	TEE_BigIntInit(m, TEE_BigIntSizeInU32(32));
	TEE_BigIntInit(x, TEE_BigIntSizeInU32(32));
	TEE_BigIntInit(inv, TEE_BigIntSizeInU32(32));
	TEE_BigIntConvertFromS32(m, 3120);
	TEE_BigIntConvertFromS32(x, 17);
	TEE_BigIntInvMod(inv, x, m);
	int32_t out = 0;
	if ((res = TEE_BigIntConvertToS32(&out, inv)) != TEE_SUCCESS)
		return res;
	p[1].value.a = (uint32_t)out;
	return TEE_SUCCESS;
}

static TEE_Result derive_key(TEE_Param p[TEE_NUM_PARAMS])
{
	static const TEE_UUID system = PTA_SYSTEM_UUID;
	TEE_TASessionHandle session;
	uint32_t origin;
	TEE_Result r = TEE_OpenTASession(&system, TEE_TIMEOUT_INFINITE, 0, NULL, &session, &origin);
	if (r != TEE_SUCCESS)
		return r;
	uint8_t extra[8] = "kit-test", own[16];
	TEE_Param q[TEE_NUM_PARAMS] = { 0 };
	q[0].memref.buffer = extra;
	q[0].memref.size = sizeof(extra);
	if (p[0].value.a == 0) {
		q[1].memref.buffer = own;
		q[1].memref.size = sizeof(own);
	} else {
		q[1].memref.buffer = p[1].memref.buffer;
		q[1].memref.size = p[1].memref.size;
	}
	r = TEE_InvokeTACommand(session, TEE_TIMEOUT_INFINITE, PTA_SYSTEM_DERIVE_TA_UNIQUE_KEY,
				TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE,
						TEE_PARAM_TYPE_NONE), q, &origin);
	TEE_CloseTASession(session);
	return r;
}

/* What a hostile C TA would try: every one must fail. */
static TEE_Result escape(TEE_Param p[TEE_NUM_PARAMS])
{
	static const char *const reads[] = { "/etc/passwd", "/proc/self/maps", "/proc/1/environ", "/rproc-tee-ta/no-such-library" };
	uint32_t bits = 0;
	for (unsigned i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		int fd = open(reads[i], O_RDONLY);
		bits |= (uint32_t)(fd < 0) << i;
		if (fd >= 0)
			close(fd);
	}
	/* Its own image, for writing (a sealed memfd behind the broker): refused. */
	int rw = open("/rproc-tee-ta/5f8b97c4-6a2e-4a3c-9c1e-0b7d4e2a1f01", O_RDWR);
	bits |= (uint32_t)(rw < 0) << 4;
	if (rw >= 0)
		close(rw);
	int created = open("/tmp/kit-test-escape", O_WRONLY | O_CREAT, 0600);
	bits |= (uint32_t)(created < 0) << 5;
	if (created >= 0)
		close(created);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bits |= (uint32_t)(s < 0) << 6;
	if (s >= 0)
		close(s);
	/* What a coverage build may open (--ta-coverage: a .gcda under the daemon's folder) named
	 * to leave it: through "..", and relative. */
	static const char *const gcda[] = { "/tmp/../../etc/kit-test-escape.gcda", "kit-test-escape.gcda" };
	for (unsigned i = 0; i < sizeof(gcda) / sizeof(gcda[0]); i++) {
		int fd = open(gcda[i], O_RDWR | O_CREAT, 0600);
		bits |= (uint32_t)(fd < 0) << (7 + i);
		if (fd >= 0)
			close(fd);
	}
	int own = open("/rproc-tee-ta/5f8b97c4-6a2e-4a3c-9c1e-0b7d4e2a1f01", O_RDONLY);
	p[0].value.a = bits;
	p[0].value.b = own >= 0;
	if (own >= 0)
		close(own);
	return TEE_SUCCESS;
}

/* The kit's ASan self-tests, as OP-TEE's os_test runs them for xtest 1042. */
static TEE_Result asan_self_tests(TEE_Param p[TEE_NUM_PARAMS])
{
#ifdef CFG_TA_SANITIZE_KADDRESS
	static void (*const tests[])(struct asan_test_ctx *) = {
		asan_test_stack, asan_test_global_stat, asan_test_global_ro, asan_test_global, asan_test_malloc,
		asan_test_malloc2, asan_test_use_after_free, asan_test_memcpy_dst, asan_test_memcpy_src, asan_test_memset,
	};
	struct asan_test_ctx ctx = { 0 };
	uint32_t caught = 0;

	asan_test_init(&ctx);
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		caught |= (uint32_t)(asan_call_test(&ctx, tests[i], "kit") == 0) << i;
	asan_test_deinit(&ctx);
	p[0].value.a = caught;
	return TEE_SUCCESS;
#else
	(void)p;
	return TEE_ERROR_NOT_SUPPORTED;
#endif
}

TEE_Result kit_test_more(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS])
{
	(void)types;
	volatile uint8_t *nothing;
	TEE_ObjectHandle object;
	switch (cmd) {
	case KIT_TEST_CMD_LIBRARIES:
		return libraries(params);
	case KIT_TEST_CMD_ARITH:
		return arith(params);
	case KIT_TEST_CMD_ZERO_MALLOC:
		nothing = TEE_Malloc(0, 0);
		return nothing ? (TEE_Result)*nothing : TEE_ERROR_OUT_OF_MEMORY;
	case KIT_TEST_CMD_ID_IN_SHM:
		return TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, params[0].memref.buffer, params[0].memref.size,
						TEE_DATA_FLAG_ACCESS_READ, &object);
	case KIT_TEST_CMD_DERIVE_KEY:
		return derive_key(params);
	case KIT_TEST_CMD_ESCAPE:
		return escape(params);
	case KIT_TEST_CMD_UNDEFINED: {
		volatile int big = INT_MAX;
		int sum = big + (int)params[0].value.a;
		return sum == 0 ? TEE_ERROR_GENERIC : TEE_SUCCESS;
	}
	case KIT_TEST_CMD_ASAN_SELF_TESTS:
		return asan_self_tests(params);
	case KIT_TEST_CMD_OVERFLOW: {
		volatile uint8_t *buffer = TEE_Malloc(16, TEE_MALLOC_FILL_ZERO);
		volatile size_t end = 16;
		TEE_Result res = TEE_ERROR_OUT_OF_MEMORY;

		if (buffer) {
			buffer[end] = 1;
			res = buffer[0] ? TEE_ERROR_GENERIC : TEE_SUCCESS;
			TEE_Free((void *)(uintptr_t)buffer);
		}
		return res;
	}
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
