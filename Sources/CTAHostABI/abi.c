// The TA-host ABI's layout, fixed: libutee.so and the host are built from the same header, and a
// change of layout must change RPROC_TEE_UTEE_ABI (these fail the build until it does).
#include "rproc_tee_ta_abi.h"

_Static_assert(sizeof(struct rproc_tee_call) == 3 * 8 + 8 * 8 + 2 * 8 + 2 * 8 + 2 * 8 + 2 * 8 + 8 + 8, "rproc_tee_call's layout");
_Static_assert(sizeof(struct rproc_tee_utee_ops) == 8 + 3 * 8 + 8, "rproc_tee_utee_ops's layout");
