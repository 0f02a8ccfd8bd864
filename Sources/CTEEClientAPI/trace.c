/* rproc-tee: the trace function OP-TEE's libteec exports, which programs built against its
 * internal teec_trace.h (optee_client's libckteec among them) link against. Our own code. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* OP-TEE's levels: 1 error, 2 info, 3 debug, 4 flow. */
static const char *level_name(int level)
{
	switch (level) {
	case 1: return "ERR";
	case 2: return "INF";
	case 3: return "DBG";
	case 4: return "FLW";
	default: return "???";
	}
}

/* Prints "<level> [<prefix>] <function>:<line>: <message>" to stderr when `level` is at most
 * $TEEC_LOG_LEVEL (default 1: errors only). */
__attribute__((visibility("default"), format(printf, 5, 6)))
void _dprintf(const char *function, int line, int level, const char *prefix, const char *fmt, ...)
{
	const char *limit_text = getenv("TEEC_LOG_LEVEL");
	int limit = limit_text ? atoi(limit_text) : 1;
	va_list args;

	if (level > limit)
		return;
	fprintf(stderr, "%s [%s] %s:%d: ", level_name(level), prefix ? prefix : "", function ? function : "", line);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
}
