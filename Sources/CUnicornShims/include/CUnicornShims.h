#ifndef RPROC_TEE_CUNICORN_SHIMS_H
#define RPROC_TEE_CUNICORN_SHIMS_H
#include <stdint.h>
#include <stdbool.h>
#include <unicorn/unicorn.h>

/* uc_ctl_set_cpu_model is a macro over variadic uc_ctl: Swift cannot call either. */
uc_err rproc_uc_set_cpu_model(uc_engine *uc, int model);

/* What an invalid memory access reported (the last one before emulation stopped). */
typedef struct {
    int happened;      /* 1 once an access faulted */
    int type;          /* uc_mem_type */
    uint64_t address;
    int size;
} rproc_uc_fault;

/* uc_hook_add is variadic: installs a UC_HOOK_MEM_INVALID hook that records the access in
 * *fault and lets emulation stop (returns false). */
uc_err rproc_uc_hook_invalid_memory(uc_engine *uc, uc_hook *hook, rproc_uc_fault *fault);
#endif
