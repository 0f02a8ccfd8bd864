/* rproc-tee TA dev kit: GP TEE Sockets API's TCP constants (see __tee_isocket_defines.h). */
#ifndef RPROC_TEE___TEE_TCPSOCKET_DEFINES_H
#define RPROC_TEE___TEE_TCPSOCKET_DEFINES_H

#define TEE_ISOCKET_PROTOCOLID_TCP 0x65
#define TEE_ISOCKET_TCP_WARNING_UNKNOWN_OUT_OF_BAND 0xF1010002

#endif
