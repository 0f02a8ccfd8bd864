/* rproc-tee TA dev kit: OP-TEE's trace macros. A message at or below the TA's TRACE_LEVEL goes to
 * the secure-world log as one line, prefixed with the TA's name, the function and the line;
 * `%pUl` prints a TEE_UUID (as OP-TEE's formatter does). Our own header; the macro names, levels
 * and trace_printf's signature are OP-TEE's interface. */
#ifndef RPROC_TEE_TRACE_H
#define RPROC_TEE_TRACE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <trace_levels.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MAX_PRINT_SIZE 256
#define MAX_FUNC_PRINT_SIZE 32

#ifndef TRACE_LEVEL
#define TRACE_LEVEL TRACE_MAX
#endif

/* The TA's run-time level (user_ta_header.c sets it from TRACE_LEVEL) and its log prefix. */
extern int trace_level;
extern const char trace_ext_prefix[];

void trace_set_level(int level);
int trace_get_level(void);
void trace_ext_puts(const char *str);
void trace_printf(const char *func, int line, int level, bool level_ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void trace_vprintf(const char *func, int line, int level, bool level_ok, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
void dhex_dump(const char *function, int line, int level, const void *buf, int len);

#define trace_printf_helper(level, level_ok, ...) \
	trace_printf(__func__, __LINE__, (level), (level_ok), __VA_ARGS__)
#define trace_printf_helper_raw(level, level_ok, ...) \
	trace_printf(NULL, 0, (level), (level_ok), __VA_ARGS__)

#if TRACE_LEVEL < TRACE_PRINTF_LEVEL
#define MSG(...) (void)0
#define MSG_RAW(...) (void)0
#else
#define MSG(...) trace_printf_helper(0, false, __VA_ARGS__)
#define MSG_RAW(...) trace_printf_helper_raw(0, false, __VA_ARGS__)
#endif

#if TRACE_LEVEL < TRACE_ERROR
#define EMSG(...) (void)0
#define EMSG_RAW(...) (void)0
#define SMSG(...) (void)0
#else
#define EMSG(...) trace_printf_helper(TRACE_ERROR, true, __VA_ARGS__)
#define EMSG_RAW(...) trace_printf_helper_raw(TRACE_ERROR, true, __VA_ARGS__)
#define SMSG(...) trace_printf(__func__, __LINE__, TRACE_ERROR, true, __VA_ARGS__)
#endif

#if TRACE_LEVEL < TRACE_INFO
#define IMSG(...) (void)0
#define IMSG_RAW(...) (void)0
#else
#define IMSG(...) trace_printf_helper(TRACE_INFO, true, __VA_ARGS__)
#define IMSG_RAW(...) trace_printf_helper_raw(TRACE_INFO, true, __VA_ARGS__)
#endif

#if TRACE_LEVEL < TRACE_DEBUG
#define DMSG(...) (void)0
#define DMSG_RAW(...) (void)0
#define DHEXDUMP(buf, len) (void)0
#else
#define DMSG(...) trace_printf_helper(TRACE_DEBUG, true, __VA_ARGS__)
#define DMSG_RAW(...) trace_printf_helper_raw(TRACE_DEBUG, true, __VA_ARGS__)
#define DHEXDUMP(buf, len) dhex_dump(__func__, __LINE__, TRACE_DEBUG, (const void *)(buf), (int)(len))
#endif

#if TRACE_LEVEL < TRACE_FLOW
#define FMSG(...) (void)0
#define FMSG_RAW(...) (void)0
#else
#define FMSG(...) trace_printf_helper(TRACE_FLOW, true, __VA_ARGS__)
#define FMSG_RAW(...) trace_printf_helper_raw(TRACE_FLOW, true, __VA_ARGS__)
#endif

#define INMSG(...) FMSG("> " __VA_ARGS__)
#define OUTMSG(...) FMSG("< " __VA_ARGS__)
#define OUTRMSG(r) do { OUTMSG("r=[%x]", (unsigned int)(r)); return (r); } while (0)

#ifdef __cplusplus
}
#endif

#endif
