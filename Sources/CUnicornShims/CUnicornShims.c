#include "CUnicornShims.h"

uc_err rproc_uc_set_cpu_model(uc_engine *uc, int model) { return uc_ctl_set_cpu_model(uc, model); }

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
