/*
 * rproc-tee's counterpart of OP-TEE's tee_client_api_extensions.h: shared memory from a file
 * descriptor (a memfd made with MFD_ALLOW_SEALING; libteec seals it against shrinking).
 */
#ifndef TEE_CLIENT_API_EXTENSIONS_H
#define TEE_CLIENT_API_EXTENSIONS_H

#include <tee_client_api.h>

#ifdef __cplusplus
extern "C" {
#endif

TEEC_Result TEEC_RegisterSharedMemoryFileDescriptor(TEEC_Context *context, TEEC_SharedMemory *sharedMem, int fd);

#ifdef __cplusplus
}
#endif

#endif
