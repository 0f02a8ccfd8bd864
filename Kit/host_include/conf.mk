# rproc-tee TA dev kit: what a normal-world build (optee_test's xtest) reads of the TEE it will
# talk to. rproc-tee serves no secure data path and no pkcs11 TA; TEE_STORAGE_PRIVATE_RPMB only
# from a daemon started with --rpmb (xtest finds out at run time), so the default is REE FS alone.
CFG_TEE_TA_LOG_LEVEL ?= 2
CFG_SECURE_DATA_PATH ?= n
CFG_PKCS11_TA ?= n
CFG_RPMB_FS ?= n
CFG_REE_FS ?= y
