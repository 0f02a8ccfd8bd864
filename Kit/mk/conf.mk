# rproc-tee TA dev kit: the build configuration a TA sees (OP-TEE's export has the same file:
# optee_test's ta/Makefile includes it directly). The TAs run as x86-64 shared objects in
# rproc-tee's TA hosts; these are the features the kit's libutee.so provides.
sm := ta_x86_64
sm-ta_x86_64 := y
COMPILER ?= gcc
PYTHON3 ?= python3
CFG_TA_FLOAT_SUPPORT ?= y
CFG_SYSTEM_PTA ?= y
CFG_CACHE_API ?= y
CFG_TA_OPTEE_CORE_API_COMPAT_1_1 ?= n
CFG_TEE_TA_LOG_LEVEL ?= 2
CFG_TA_MBEDTLS ?= n
CFG_TA_BGET_TEST ?= n
CFG_UNWIND ?= n
