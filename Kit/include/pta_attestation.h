/* rproc-tee TA dev kit: OP-TEE's attestation pseudo-TA's interface. rproc-tee does not serve
 * it: opening a session to it answers ITEM_NOT_FOUND. */
#ifndef RPROC_TEE_PTA_ATTESTATION_H
#define RPROC_TEE_PTA_ATTESTATION_H

#define PTA_ATTESTATION_UUID { 0x39800861, 0x182a, 0x4720, { 0x9b, 0x67, 0x2b, 0xcd, 0x62, 0x2b, 0xc0, 0xb5 } }

#define PTA_ATTESTATION_GET_PUBKEY 0x0
#define PTA_ATTESTATION_GET_TA_SHDR_DIGEST 0x1
#define PTA_ATTESTATION_HASH_TA_MEMORY 0x2
#define PTA_ATTESTATION_HASH_TEE_MEMORY 0x3

#endif
