#ifndef RPROC_TEE_CMBEDTLS_SHIMS_H
#define RPROC_TEE_CMBEDTLS_SHIMS_H
/*
 * One-line forwarders for mbedTLS accessors that Swift cannot use directly: static inline
 * functions that take a context by value, and struct members whose address must be passed on.
 * Nothing here holds policy; TEECrypto does.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

mbedtls_rsa_context *rproc_pk_rsa(mbedtls_pk_context *pk);
mbedtls_ecp_keypair *rproc_pk_ec(mbedtls_pk_context *pk);
mbedtls_ecp_group *rproc_ecp_keypair_group(mbedtls_ecp_keypair *kp);
mbedtls_mpi *rproc_ecp_keypair_d(mbedtls_ecp_keypair *kp);
mbedtls_ecp_point *rproc_ecp_keypair_Q(mbedtls_ecp_keypair *kp);
mbedtls_ecp_group_id rproc_ecp_keypair_group_id(const mbedtls_ecp_keypair *kp);
const mbedtls_mpi *rproc_ecp_group_order(const mbedtls_ecp_group *grp);
const mbedtls_ecp_point *rproc_ecp_group_generator(const mbedtls_ecp_group *grp);
const mbedtls_mpi *rproc_rsa_public_exponent(const mbedtls_rsa_context *rsa);
/* mbedtls_ctr_drbg_reseed under the context's own mutex (mbedtls_ctr_drbg_random takes it; the
 * reseed does not, and the generator is shared between threads). */
int rproc_ctr_drbg_reseed_locked(mbedtls_ctr_drbg_context *ctx, const unsigned char *additional, size_t len);

#endif
