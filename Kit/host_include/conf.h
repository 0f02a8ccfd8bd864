/* rproc-tee TA dev kit: host_include/conf.h, the CFG_* values of the TEE a normal-world program
 * is built for, as OP-TEE's export has them (optee_test's xtest includes this file in every
 * source). Kept in step with conf.mk: options that are n are not defined. */
#ifndef RPROC_TEE_HOST_CONF_H
#define RPROC_TEE_HOST_CONF_H

#define CFG_TEE_TA_LOG_LEVEL 2
#define CFG_REE_FS 1

#endif
