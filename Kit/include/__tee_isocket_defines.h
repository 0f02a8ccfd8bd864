/* rproc-tee TA dev kit: GP TEE Sockets API's generic constants (as OP-TEE names them), so that
 * programs that name them (xtest) build. rproc-tee does not implement the Sockets API: a TA that
 * calls it does not link with the kit. */
#ifndef RPROC_TEE___TEE_ISOCKET_DEFINES_H
#define RPROC_TEE___TEE_ISOCKET_DEFINES_H

#define TEE_ISOCKET_VERSION 0x01000000
#define TEE_ISOCKET_ERROR_PROTOCOL 0xF1007001
#define TEE_ISOCKET_ERROR_REMOTE_CLOSED 0xF1007002
#define TEE_ISOCKET_ERROR_TIMEOUT 0xF1007003
#define TEE_ISOCKET_ERROR_OUT_OF_RESOURCES 0xF1007004
#define TEE_ISOCKET_ERROR_LARGE_BUFFER 0xF1007005
#define TEE_ISOCKET_WARNING_PROTOCOL 0xF1007006
#define TEE_ISOCKET_ERROR_HOSTNAME 0xF1007007

#endif
