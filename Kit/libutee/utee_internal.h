// libutee.so's own declarations (not part of the kit's headers).
#ifndef RPROC_TEE_UTEE_INTERNAL_H
#define RPROC_TEE_UTEE_INTERNAL_H

#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>
#include "rproc_tee_ta_abi.h"

/// Ends the TA with `code`, logging `reason` (never returns).
void utee_panic(uint32_t code, const char *reason) __attribute__((noreturn));
/// One call into the host's runtime.
TEE_Result utee_call(uint32_t fn, struct rproc_tee_call *call);
/// The host tells the library the parameters of the entry point it is about to run.
void rproc_tee_utee_set_params(uint32_t types, const void *params);

/// GP: a NULL where a pointer is required is a programming error of the TA, i.e. a panic.
#define REQUIRE(cond, function) \
    do { if (!(cond)) utee_bad_argument(function); } while (0)
/// An object id must be the TA's own memory, not its client's (which could change it between
/// the check and the use): one in a memory reference of the current call is a panic (OP-TEE's
/// answer to xtest 6020).
void utee_require_private(const void *buffer, size_t length, const char *function);
/// The panic of REQUIRE, naming the function.
void utee_bad_argument(const char *function) __attribute__((noreturn));

#endif
