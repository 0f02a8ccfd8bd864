// libutee.so, the core of it: the bind with the TA host, panic, memory, trace, time, and the
// one door every other Internal API function goes through (`utee_call`). Everything a TA passes
// is checked here as GP says (a NULL where GP requires a pointer is a panic) before it reaches the
// host, whose Swift runtime checks handles and state again: the TA is not trusted by either.

#include "utee_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static struct rproc_tee_utee_ops bound;
static int is_bound;
static int level = TRACE_MAX;
/// /proc/self/maps, opened at bind (before the host's filter forbids opening anything): what
/// TEE_CheckMemoryAccessRights reads for the TA's own memory.
static int maps_fd = -1;

int rproc_tee_utee_bind(const struct rproc_tee_utee_ops *ops)
{
    if (!ops || ops->abi != RPROC_TEE_UTEE_ABI || ops->size != sizeof(*ops) || !ops->panic || !ops->log || !ops->call)
        return -1;
    bound = *ops;
    is_bound = 1;
    if (maps_fd < 0)
        maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    return 0;
}

static void unbound(const char *what) __attribute__((noreturn));
static void unbound(const char *what)
{
    // A TA loaded outside a TA host (a test harness that dlopens it by hand) has no runtime.
    fprintf(stderr, "libutee: %s called outside an rproc-tee TA host\n", what);
    abort();
}

void utee_panic(uint32_t code, const char *reason)
{
    if (!is_bound)
        unbound(reason);
    bound.panic(code, reason);
    abort();   // the host's panic does not return; should it, the process still ends here
}

TEE_Result utee_call(uint32_t fn, struct rproc_tee_call *call)
{
    if (!is_bound)
        unbound("the Internal API");
    return bound.call(fn, call);
}

void utee_bad_argument(const char *function)
{
    char reason[160];
    snprintf(reason, sizeof(reason), "%s: a required argument is NULL or out of range", function);
    utee_panic(TEE_ERROR_BAD_PARAMETERS, reason);
}

void TEE_Panic(TEE_Result panicCode)
{
    utee_panic(panicCode, "TEE_Panic called");
}

// MARK: Memory

/// What TEE_Malloc holds now, against the TA's TA_DATA_SIZE (`bound.data_size`): an allocation
/// that would pass it fails (NULL), as OP-TEE's heap of that size would.
static _Atomic size_t held;

struct block {
    size_t size;
    size_t magic;
};
#define BLOCK_MAGIC ((size_t)0x7a4d616c6c6f6331ull)

/// TEE_Malloc(0)'s answer: not NULL, and any access through it faults (a page with no access).
static void *zero_size_block;

static void *allocate(size_t size, int zero)
{
    if (size == 0) {
        if (!zero_size_block) {
            void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            zero_size_block = p == MAP_FAILED ? NULL : p;
        }
        return zero_size_block;
    }
    size_t total;
    if (__builtin_add_overflow(size, sizeof(struct block), &total))
        return NULL;
    size_t limit = is_bound && bound.data_size ? bound.data_size : (size_t)-1;
    size_t now = atomic_load(&held);
    do {
        if (size > limit || now > limit - size)
            return NULL;
    } while (!atomic_compare_exchange_weak(&held, &now, now + size));
    struct block *b = zero ? calloc(1, total) : malloc(total);
    if (!b) {
        atomic_fetch_sub(&held, size);
        return NULL;
    }
    b->size = size;
    b->magic = BLOCK_MAGIC;
    return b + 1;
}

static struct block *block_of(void *buffer, const char *function)
{
    struct block *b = (struct block *)buffer - 1;
    // The TA's pointer: one TEE_Malloc did not return is a panic, not a heap corruption.
    if (b->magic != BLOCK_MAGIC)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, function);
    return b;
}

void *TEE_Malloc(size_t size, uint32_t hint)
{
    // GP 1.3: hints other than these are reserved; OP-TEE panics on them.
    if (hint & ~(uint32_t)(TEE_MALLOC_NO_FILL | TEE_MALLOC_NO_SHARE | TEE_USER_MEM_HINT_NO_FILL_ZERO))
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_Malloc with an unknown hint");
    return allocate(size, !(hint & (TEE_MALLOC_NO_FILL | TEE_USER_MEM_HINT_NO_FILL_ZERO)));
}

void *TEE_Realloc(void *buffer, size_t newSize)
{
    if (!buffer || (buffer == zero_size_block && zero_size_block))
        return allocate(newSize, 0);
    struct block *old = block_of(buffer, "TEE_Realloc of a buffer TEE_Malloc did not return");
    void *fresh = allocate(newSize, 0);
    if (!fresh)
        return NULL;
    memcpy(fresh, buffer, old->size < newSize ? old->size : newSize);
    TEE_Free(buffer);
    return fresh;
}

void TEE_Free(void *buffer)
{
    if (!buffer || buffer == zero_size_block)
        return;
    struct block *b = block_of(buffer, "TEE_Free of a buffer TEE_Malloc did not return");
    atomic_fetch_sub(&held, b->size);
    b->magic = 0;
    free(b);
}

void TEE_MemMove(void *dest, const void *src, size_t size)
{
    if (size)
        memmove(dest, src, size);
}

int32_t TEE_MemCompare(const void *buffer1, const void *buffer2, size_t size)
{
    int r = size ? memcmp(buffer1, buffer2, size) : 0;
    return r < 0 ? -1 : r > 0 ? 1 : 0;
}

void TEE_MemFill(void *buff, uint32_t x, size_t size)
{
    if (size)
        memset(buff, (int)(uint8_t)x, size);
}

static const void *instance_data;

void TEE_SetInstanceData(const void *instanceData)
{
    instance_data = instanceData;
}

const void *TEE_GetInstanceData(void)
{
    return instance_data;
}

// MARK: Memory access rights

/// The current entry point's parameters (the host sets them around each entry).
static uint32_t param_types;
static TEE_Param params[TEE_NUM_PARAMS];

void rproc_tee_utee_set_params(uint32_t types, const void *p)
{
    param_types = types;
    if (p)
        memcpy(params, p, sizeof(params));
    else
        memset(params, 0, sizeof(params));
}

static int overlaps(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
    return a < b + blen && b < a + alen;
}

static int within(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
    return a >= b && alen <= blen && a - b <= blen - alen;
}

/// Whether [start, start+size) lies in the process's mappings with the rights asked for.
static int mapped_with(uintptr_t start, size_t size, int write)
{
    if (maps_fd < 0)
        return 0;
    static char text[1 << 16];
    size_t have = 0;
    off_t offset = 0;
    uintptr_t covered = start;
    uintptr_t end = start + size;
    for (;;) {
        ssize_t n = pread(maps_fd, text + have, sizeof(text) - 1 - have, offset);
        if (n <= 0)
            break;
        offset += n;
        have += (size_t)n;
        text[have] = 0;
        char *line = text;
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            unsigned long lo, hi;
            char perms[5];
            if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo <= covered && covered < hi) {
                if (perms[0] != 'r' || (write && perms[1] != 'w'))
                    return 0;
                covered = hi;
                if (covered >= end)
                    return 1;
            }
            line = nl + 1;
        }
        have = strlen(line);
        memmove(text, line, have);
    }
    return covered >= end;
}

void utee_require_private(const void *buffer, size_t length, const char *function)
{
    for (int i = 0; i < TEE_NUM_PARAMS && buffer && length; i++) {
        uint32_t t = TEE_PARAM_TYPE_GET(param_types, i);
        if (t >= TEE_PARAM_TYPE_MEMREF_INPUT && params[i].memref.buffer &&
            overlaps((uintptr_t)buffer, length, (uintptr_t)params[i].memref.buffer, params[i].memref.size)) {
            char reason[160];
            snprintf(reason, sizeof(reason), "%s: the object id is in the client's shared memory", function);
            utee_panic(TEE_ERROR_ACCESS_DENIED, reason);
        }
    }
}

TEE_Result TEE_CheckMemoryAccessRights(uint32_t accessFlags, void *buffer, size_t size)
{
    uintptr_t start = (uintptr_t)buffer;
    if (size == 0)
        return TEE_SUCCESS;
    if (start + size < start)
        return TEE_ERROR_ACCESS_DENIED;
    // The TA's own memory is not the client's: a buffer shared with the client (a memref of the
    // current call) passes only with ANY_OWNER, and then only as the parameter's direction allows.
    for (int i = 0; i < TEE_NUM_PARAMS; i++) {
        uint32_t t = TEE_PARAM_TYPE_GET(param_types, i);
        if (t < TEE_PARAM_TYPE_MEMREF_INPUT || !params[i].memref.buffer)
            continue;
        uintptr_t p = (uintptr_t)params[i].memref.buffer;
        if (!overlaps(start, size, p, params[i].memref.size))
            continue;
        if (!(accessFlags & TEE_MEMORY_ACCESS_ANY_OWNER))
            return TEE_ERROR_ACCESS_DENIED;
        if (!within(start, size, p, params[i].memref.size))
            return TEE_ERROR_ACCESS_DENIED;
        if ((accessFlags & TEE_MEMORY_ACCESS_WRITE) && t == TEE_PARAM_TYPE_MEMREF_INPUT)
            return TEE_ERROR_ACCESS_DENIED;
        return TEE_SUCCESS;
    }
    return mapped_with(start, size, (accessFlags & TEE_MEMORY_ACCESS_WRITE) != 0) ? TEE_SUCCESS : TEE_ERROR_ACCESS_DENIED;
}

TEE_Result TEE_CacheClean(char *buf, size_t len)
{
    return TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_READ | TEE_MEMORY_ACCESS_ANY_OWNER, buf, len);
}

TEE_Result TEE_CacheFlush(char *buf, size_t len)
{
    return TEE_CacheClean(buf, len);
}

TEE_Result TEE_CacheInvalidate(char *buf, size_t len)
{
    return TEE_CacheClean(buf, len);
}

// MARK: Time

static void now(clockid_t clock, TEE_Time *time)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    time->seconds = (uint32_t)ts.tv_sec;
    time->millis = (uint32_t)(ts.tv_nsec / 1000000);
}

void TEE_GetSystemTime(TEE_Time *time)
{
    if (!time)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GetSystemTime with a NULL time");
    now(CLOCK_MONOTONIC, time);
}

void TEE_GetREETime(TEE_Time *time)
{
    if (!time)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GetREETime with a NULL time");
    now(CLOCK_REALTIME, time);
}

TEE_Result TEE_Wait(uint32_t timeout)
{
    struct rproc_tee_call c = { .value = { timeout } };
    return utee_call(RPROC_TEE_FN_WAIT, &c);
}

TEE_Result TEE_GetTAPersistentTime(TEE_Time *time)
{
    if (!time)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GetTAPersistentTime with a NULL time");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = utee_call(RPROC_TEE_FN_TA_TIME_GET, &c);
    if (r == TEE_SUCCESS || r == TEE_ERROR_OVERFLOW) {
        time->seconds = (uint32_t)c.value[0];
        time->millis = (uint32_t)c.value[1];
    } else {
        time->seconds = 0;
        time->millis = 0;
    }
    return r;
}

TEE_Result TEE_SetTAPersistentTime(const TEE_Time *time)
{
    if (!time)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_SetTAPersistentTime with a NULL time");
    struct rproc_tee_call c = { .value = { time->seconds, time->millis } };
    return utee_call(RPROC_TEE_FN_TA_TIME_SET, &c);
}

// MARK: Cancellation

static bool cancellation(uint64_t what)
{
    struct rproc_tee_call c = { .value = { what } };
    utee_call(RPROC_TEE_FN_CANCELLATION, &c);
    return c.value[1] != 0;
}

bool TEE_GetCancellationFlag(void) { return cancellation(0); }
bool TEE_UnmaskCancellation(void) { return cancellation(1); }
bool TEE_MaskCancellation(void) { return cancellation(2); }

// MARK: Random

void TEE_GenerateRandom(void *randomBuffer, size_t randomBufferLen)
{
    if (!randomBufferLen)
        return;
    if (!randomBuffer)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GenerateRandom with a NULL buffer");
    struct rproc_tee_call c = { .out = { randomBuffer }, .out_len = { randomBufferLen } };
    utee_call(RPROC_TEE_FN_RANDOM, &c);
}

// MARK: Trace

void trace_set_level(int l)
{
    level = l;
}

int trace_get_level(void)
{
    return level;
}

void trace_ext_puts(const char *str)
{
    if (!is_bound)
        unbound("trace");
    bound.log(TRACE_MIN, str, strlen(str));
}

struct out {
    char *text;
    size_t used, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->used >= o->cap)
        return;
    size_t room = o->cap - o->used;
    if (n > room)
        n = room;
    memcpy(o->text + o->used, s, n);
    o->used += n;
}

/// printf's conversions one by one (each through snprintf with its own specification), so that
/// OP-TEE's `%pUl` (a TEE_UUID, as text) can be among them; `%n` is refused (skipped).
static void format(struct out *o, const char *fmt, va_list ap)
{
    const char *p = fmt;
    while (*p) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            put(o, p, strlen(p));
            return;
        }
        put(o, p, (size_t)(pct - p));
        const char *q = pct + 1;
        if (*q == '%') {
            put(o, "%", 1);
            p = q + 1;
            continue;
        }
        while (*q && strchr("-+ #0'", *q))
            q++;
        int star_width = 0, star_precision = 0;
        if (*q == '*') { star_width = 1; q++; } else while (*q >= '0' && *q <= '9') q++;
        if (*q == '.') {
            q++;
            if (*q == '*') { star_precision = 1; q++; } else while (*q >= '0' && *q <= '9') q++;
        }
        int longs = 0, shorts = 0, size_t_ = 0, intmax = 0, ptrdiff = 0, long_double = 0;
        for (;; q++) {
            if (*q == 'l') longs++;
            else if (*q == 'h') shorts++;
            else if (*q == 'z') size_t_ = 1;
            else if (*q == 'j') intmax = 1;
            else if (*q == 't') ptrdiff = 1;
            else if (*q == 'L') long_double = 1;
            else break;
        }
        char conv = *q;
        if (!conv) {
            put(o, pct, strlen(pct));
            return;
        }
        char spec[32];
        size_t speclen = (size_t)(q - pct) + 1;
        if (speclen >= sizeof(spec)) {
            put(o, pct, speclen);
            p = q + 1;
            continue;
        }
        memcpy(spec, pct, speclen);
        spec[speclen] = 0;
        int width = star_width ? va_arg(ap, int) : 0;
        int precision = star_precision ? va_arg(ap, int) : 0;
        char buf[512];
        int n = 0;
#define EMIT(value) \
    do { \
        if (star_width && star_precision) n = snprintf(buf, sizeof(buf), spec, width, precision, value); \
        else if (star_width) n = snprintf(buf, sizeof(buf), spec, width, value); \
        else if (star_precision) n = snprintf(buf, sizeof(buf), spec, precision, value); \
        else n = snprintf(buf, sizeof(buf), spec, value); \
    } while (0)
        switch (conv) {
        case 'd': case 'i':
            if (size_t_) EMIT(va_arg(ap, ssize_t));
            else if (intmax) EMIT(va_arg(ap, intmax_t));
            else if (ptrdiff) EMIT(va_arg(ap, ptrdiff_t));
            else if (longs >= 2) EMIT(va_arg(ap, long long));
            else if (longs == 1) EMIT(va_arg(ap, long));
            else EMIT(va_arg(ap, int));
            break;
        case 'u': case 'x': case 'X': case 'o':
            if (size_t_) EMIT(va_arg(ap, size_t));
            else if (intmax) EMIT(va_arg(ap, uintmax_t));
            else if (ptrdiff) EMIT(va_arg(ap, ptrdiff_t));
            else if (longs >= 2) EMIT(va_arg(ap, unsigned long long));
            else if (longs == 1) EMIT(va_arg(ap, unsigned long));
            else EMIT(va_arg(ap, unsigned int));
            break;
        case 'c':
            EMIT(va_arg(ap, int));
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            if (long_double) EMIT(va_arg(ap, long double));
            else EMIT(va_arg(ap, double));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            EMIT(s ? s : "(null)");
            break;
        }
        case 'p':
            if (q[1] == 'U' && (q[2] == 'l' || q[2] == 'L')) {
                // OP-TEE's %pUl: the TEE_UUID the pointer names, in its canonical text.
                const TEE_UUID *u = va_arg(ap, const TEE_UUID *);
                if (u)
                    n = snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", u->timeLow, u->timeMid,
                                 u->timeHiAndVersion, u->clockSeqAndNode[0], u->clockSeqAndNode[1], u->clockSeqAndNode[2],
                                 u->clockSeqAndNode[3], u->clockSeqAndNode[4], u->clockSeqAndNode[5], u->clockSeqAndNode[6],
                                 u->clockSeqAndNode[7]);
                else
                    n = snprintf(buf, sizeof(buf), "(null)");
                q += 2;
            } else {
                EMIT(va_arg(ap, void *));
            }
            break;
        case 'n':
            (void)va_arg(ap, void *);
            break;
        default:
            put(o, pct, speclen);
            break;
        }
#undef EMIT
        if (n > 0)
            put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        p = q + 1;
    }
}

void trace_vprintf(const char *func, int line, int lvl, bool level_ok, const char *fmt, va_list ap)
{
    if (level_ok && lvl > level)
        return;
    if (!is_bound)
        unbound("trace");
    char text[MAX_PRINT_SIZE * 4];
    struct out o = { text, 0, sizeof(text) };
    static const char letters[] = "MEIDF";
    char head[96];
    int n = func ? snprintf(head, sizeof(head), "%c/TA: %.*s:%d ", letters[lvl >= 0 && lvl <= TRACE_MAX ? lvl : 0],
                            MAX_FUNC_PRINT_SIZE, func, line)
                 : 0;
    if (n > 0)
        put(&o, head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
    format(&o, fmt, ap);
    // One line each: a message's own trailing newline is the line's end.
    while (o.used > 0 && (text[o.used - 1] == '\n' || text[o.used - 1] == '\r'))
        o.used--;
    bound.log(lvl, text, o.used);
}

void trace_printf(const char *func, int line, int lvl, bool level_ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trace_vprintf(func, line, lvl, level_ok, fmt, ap);
    va_end(ap);
}

void dhex_dump(const char *function, int line, int lvl, const void *buf, int len)
{
    const uint8_t *bytes = buf;
    for (int at = 0; at < len; at += 16) {
        char text[16 * 3 + 1];
        size_t used = 0;
        for (int i = at; i < len && i < at + 16; i++)
            used += (size_t)snprintf(text + used, sizeof(text) - used, "%02x ", bytes[i]);
        trace_printf(function, line, lvl, true, "%04x: %s", at, text);
    }
}

// MARK: Dynamic loading (the kit's libdl.a calls these: OP-TEE's semantics on glibc's loader)

#include <dlfcn.h>
#include <link.h>

static int uuid_name(const char *name)
{
    if (!name || strlen(name) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = name[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

void *rproc_tee_dlopen(const char *name, int flags)
{
    if (!uuid_name(name))
        return dlopen(name, flags);
    // A TA library, as OP-TEE's libdl names it: the core verifies it from the TA folders and
    // sends it; the loader then finds it where the TA itself was loaded from.
    struct rproc_tee_call c = { .in = { name }, .in_len = { strlen(name) } };
    if (utee_call(RPROC_TEE_FN_LOAD_LIBRARY, &c) != TEE_SUCCESS)
        return NULL;
    char path[128];
    snprintf(path, sizeof(path), "/rproc-tee-ta/%s", name);
    return dlopen(path, flags);
}

struct phdr_walk {
    int (*callback)(struct dl_phdr_info *, size_t, void *);
    void *data;
    int last;
};

static int phdr_step(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct phdr_walk *walk = arg;
    // The TA's own modules only (the TA and its libraries), as a TA sees them in OP-TEE: not
    // the host's runtime.
    if (!info->dlpi_name || strncmp(info->dlpi_name, "/rproc-tee-ta/", 14) != 0)
        return 0;
    walk->last = walk->callback(info, size, walk->data);
    return 0;
}

int rproc_tee_dl_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data)
{
    // OP-TEE calls the callback for every module and returns the last value; glibc stops at
    // the first that is not 0.
    struct phdr_walk walk = { callback, data, 0 };
    dl_iterate_phdr(phdr_step, &walk);
    return walk.last;
}
