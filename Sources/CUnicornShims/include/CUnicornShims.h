#ifndef RPROC_TEE_CUNICORN_SHIMS_H
#define RPROC_TEE_CUNICORN_SHIMS_H
#include <stdint.h>
#include <stdbool.h>
#include <unicorn/unicorn.h>

/* uc_ctl_set_cpu_model is a macro over variadic uc_ctl: Swift cannot call either. */
uc_err rproc_uc_set_cpu_model(uc_engine *uc, int model);
/* The model Unicorn runs (2.0.1 reports the M33 for every M-profile core). */
uc_err rproc_uc_get_cpu_model(uc_engine *uc, int *model);

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

/* The instruction budget of one uc_emu_start, counted by a code hook of ours (as Unicorn's own
 * `count` does, one hook call per instruction) so that the host knows how many instructions ran
 * however the run ended: the budget, a WFI, a fault, or `stop` — which an MMIO callback or
 * another thread sets to end the run after the current instruction. */
typedef struct {
    uint64_t executed;
    uint64_t budget;
    volatile int stop;
    /* While set, the run also ends before the first instruction after one that changed PRIMASK,
     * BASEPRI or FAULTMASK from these values (an exception held back by them is then taken). */
    int watch_masks;
    uint32_t primask, basepri, faultmask;
} rproc_uc_counter;

uc_err rproc_uc_hook_counter(uc_engine *uc, uc_hook *hook, rproc_uc_counter *counter);

/* UC_HOOK_INTR: `callback(uc, intno, user_data)` for every CPU exception Unicorn reports. */
typedef void (*rproc_uc_intr_callback)(uc_engine *uc, uint32_t intno, void *user_data);
uc_err rproc_uc_hook_intr(uc_engine *uc, uc_hook *hook, rproc_uc_intr_callback callback, void *user_data);
#endif
