/* The x86-64 layouts of shared/spec/client-abi.md §2, checked at compile time: a header that
 * drifts from OP-TEE's ABI does not build. */
#include <stddef.h>
#include "tee_client_api.h"
#include "tee_client_api_extensions.h"

#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(TEEC_Context) == 8, "TEEC_Context");
_Static_assert(offsetof(TEEC_Context, imp.fd) == 0 && offsetof(TEEC_Context, imp.reg_mem) == 4 && offsetof(TEEC_Context, imp.memref_null) == 5, "TEEC_Context.imp");
_Static_assert(sizeof(TEEC_UUID) == 16, "TEEC_UUID");
_Static_assert(sizeof(TEEC_SharedMemory) == 56, "TEEC_SharedMemory");
_Static_assert(offsetof(TEEC_SharedMemory, size) == 8 && offsetof(TEEC_SharedMemory, flags) == 16, "TEEC_SharedMemory fields");
_Static_assert(offsetof(TEEC_SharedMemory, imp.id) == 24 && offsetof(TEEC_SharedMemory, imp.alloced_size) == 32 &&
               offsetof(TEEC_SharedMemory, imp.shadow_buffer) == 40 && offsetof(TEEC_SharedMemory, imp.registered_fd) == 48 &&
               offsetof(TEEC_SharedMemory, imp.flags) == 52, "TEEC_SharedMemory.imp");
_Static_assert(sizeof(TEEC_TempMemoryReference) == 16, "TEEC_TempMemoryReference");
_Static_assert(sizeof(TEEC_RegisteredMemoryReference) == 24 && offsetof(TEEC_RegisteredMemoryReference, offset) == 16, "TEEC_RegisteredMemoryReference");
_Static_assert(sizeof(TEEC_Value) == 8, "TEEC_Value");
_Static_assert(sizeof(TEEC_Parameter) == 24, "TEEC_Parameter");
_Static_assert(sizeof(TEEC_Session) == 16 && offsetof(TEEC_Session, imp.session_id) == 8, "TEEC_Session");
_Static_assert(sizeof(TEEC_Operation) == 112 && offsetof(TEEC_Operation, paramTypes) == 4 && offsetof(TEEC_Operation, params) == 8 &&
               offsetof(TEEC_Operation, imp.session) == 104, "TEEC_Operation");
#endif

/* The module needs one object file; this is it. */
int cteec_layout_checked(void) { return 1; }
