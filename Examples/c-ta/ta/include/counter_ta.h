/* The counter TA's interface: what the host program (and any client) and the TA share. */
#ifndef COUNTER_TA_H
#define COUNTER_TA_H

/* 3c1f6a2e-8b4d-4f1a-9e7c-5d2b8a6f4e10 */
#define TA_COUNTER_UUID \
	{ 0x3c1f6a2e, 0x8b4d, 0x4f1a, { 0x9e, 0x7c, 0x5d, 0x2b, 0x8a, 0x6f, 0x4e, 0x10 } }

/* [out] value a: the counter after adding one (it lives in the TA's trusted storage) */
#define TA_COUNTER_CMD_INCREMENT 0
/* [out] value a: the counter */
#define TA_COUNTER_CMD_READ 1
/* [in] memref nonce (1..64 bytes), [out] value a: the counter,
 * [out] memref (32 bytes): HMAC-SHA256 under the TA's own key of nonce || counter (4 bytes LE) */
#define TA_COUNTER_CMD_ATTEST 2

#endif
