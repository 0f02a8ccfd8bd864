#include "CUnicornShims.h"

uc_err rproc_uc_set_cpu_model(uc_engine *uc, int model) { return uc_ctl_set_cpu_model(uc, model); }
uc_err rproc_uc_get_cpu_model(uc_engine *uc, int *model) { return uc_ctl_get_cpu_model(uc, model); }

static bool record_invalid(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user_data) {
    (void)uc; (void)value;
    rproc_uc_fault *fault = user_data;
    fault->happened = 1;
    fault->type = (int)type;
    fault->address = address;
    fault->size = size;
    return false;   /* not handled: emulation stops with the access error */
}

uc_err rproc_uc_hook_invalid_memory(uc_engine *uc, uc_hook *hook, rproc_uc_fault *fault) {
    return uc_hook_add(uc, hook, UC_HOOK_MEM_INVALID, (void *)record_invalid, fault, 1, 0);
}

static void count_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)address; (void)size;
    rproc_uc_counter *c = user_data;
    /* As Unicorn's own count hook: a stop from the hook ends the run before this instruction. */
    if (c->executed >= c->budget || c->stop) {
        uc_emu_stop(uc);
        return;
    }
    if (c->watch_masks) {
        uint32_t primask = 0, basepri = 0, faultmask = 0;
        uc_reg_read(uc, UC_ARM_REG_PRIMASK, &primask);
        uc_reg_read(uc, UC_ARM_REG_BASEPRI, &basepri);
        uc_reg_read(uc, UC_ARM_REG_FAULTMASK, &faultmask);
        if (primask != c->primask || basepri != c->basepri || faultmask != c->faultmask) {
            uc_emu_stop(uc);
            return;
        }
    }
    c->executed++;
}

uc_err rproc_uc_hook_counter(uc_engine *uc, uc_hook *hook, rproc_uc_counter *counter) {
    return uc_hook_add(uc, hook, UC_HOOK_CODE, (void *)count_instruction, counter, 1, 0);
}

uc_err rproc_uc_hook_intr(uc_engine *uc, uc_hook *hook, rproc_uc_intr_callback callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INTR, (void *)callback, user_data, 1, 0);
}
