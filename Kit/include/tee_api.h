/* rproc-tee TA dev kit: OP-TEE TAs include this for the whole Internal API. */
#ifndef RPROC_TEE_TEE_API_H
#define RPROC_TEE_TEE_API_H
#include <tee_internal_api.h>
#endif
