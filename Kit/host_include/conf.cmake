# rproc-tee TA dev kit: host_include/conf.mk for CMake builds (optee_test's xtest).
set(CFG_TEE_TA_LOG_LEVEL 2)
set(CFG_SECURE_DATA_PATH n)
set(CFG_PKCS11_TA n)
set(CFG_RPMB_FS n)  # PRIVATE_RPMB only from a daemon with --rpmb; xtest detects it at run time
set(CFG_REE_FS y)
