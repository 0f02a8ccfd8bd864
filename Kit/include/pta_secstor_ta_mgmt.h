/* rproc-tee TA dev kit: the interface of OP-TEE's pseudo-TA that installs TAs into secure
 * storage (PTA_SECSTOR_TA_MGMT), so that programs written against it (xtest's install_ta and
 * 1008) build. rproc-tee does not serve it (TAs are files in --ta-dir): opening a session to it
 * answers ITEM_NOT_FOUND. Names and values are OP-TEE's interface. */
#ifndef RPROC_TEE_PTA_SECSTOR_TA_MGMT_H
#define RPROC_TEE_PTA_SECSTOR_TA_MGMT_H

/* [in] memref[0]: a signed TA (<uuid>.ta) to store */
#define PTA_SECSTOR_TA_MGMT_BOOTSTRAP 0

#define PTA_SECSTOR_TA_MGMT_UUID \
	{ 0x6e256cba, 0xfc4d, 0x4941, { 0xad, 0x09, 0x2c, 0xa1, 0x86, 0x03, 0x42, 0xdd } }

#endif
