/* rproc-tee TA dev kit: OP-TEE TAs include this for the entry points. */
#ifndef RPROC_TEE_TEE_TA_API_H
#define RPROC_TEE_TEE_TA_API_H
#include <tee_internal_api.h>
#endif
