/* rproc-tee TA dev kit: OP-TEE's TCP socket ioctl extensions (see __tee_isocket_defines.h). */
#ifndef RPROC_TEE___TEE_TCPSOCKET_DEFINES_EXTENSIONS_H
#define RPROC_TEE___TEE_TCPSOCKET_DEFINES_EXTENSIONS_H

#define TEE_TCP_SET_RECVBUF 0x65f00000
#define TEE_TCP_SET_SENDBUF 0x65f00001

#endif
