/* rproc-tee TA dev kit: OP-TEE's trace levels (CFG_TEE_TA_LOG_LEVEL sets TRACE_LEVEL). */
#ifndef RPROC_TEE_TRACE_LEVELS_H
#define RPROC_TEE_TRACE_LEVELS_H
#define TRACE_MIN 0
#define TRACE_ERROR 1
#define TRACE_INFO 2
#define TRACE_DEBUG 3
#define TRACE_FLOW 4
#define TRACE_MAX TRACE_FLOW
#define TRACE_PRINTF_LEVEL TRACE_ERROR
#endif
