#include "CMbedTLSShims.h"

mbedtls_rsa_context *rproc_pk_rsa(mbedtls_pk_context *pk) { return mbedtls_pk_rsa(*pk); }
mbedtls_ecp_keypair *rproc_pk_ec(mbedtls_pk_context *pk) { return mbedtls_pk_ec(*pk); }
mbedtls_ecp_group *rproc_ecp_keypair_group(mbedtls_ecp_keypair *kp) { return &kp->grp; }
mbedtls_mpi *rproc_ecp_keypair_d(mbedtls_ecp_keypair *kp) { return &kp->d; }
mbedtls_ecp_point *rproc_ecp_keypair_Q(mbedtls_ecp_keypair *kp) { return &kp->Q; }
mbedtls_ecp_group_id rproc_ecp_keypair_group_id(const mbedtls_ecp_keypair *kp) { return kp->grp.id; }
const mbedtls_mpi *rproc_ecp_group_order(const mbedtls_ecp_group *grp) { return &grp->N; }
const mbedtls_ecp_point *rproc_ecp_group_generator(const mbedtls_ecp_group *grp) { return &grp->G; }
const mbedtls_mpi *rproc_rsa_public_exponent(const mbedtls_rsa_context *rsa) { return &rsa->E; }

int rproc_ctr_drbg_reseed_locked(mbedtls_ctr_drbg_context *ctx, const unsigned char *additional, size_t len) {
#if defined(MBEDTLS_THREADING_C)
    if (mbedtls_mutex_lock(&ctx->mutex) != 0) return MBEDTLS_ERR_THREADING_MUTEX_ERROR;
#endif
    int ret = mbedtls_ctr_drbg_reseed(ctx, additional, len);
#if defined(MBEDTLS_THREADING_C)
    if (mbedtls_mutex_unlock(&ctx->mutex) != 0) return MBEDTLS_ERR_THREADING_MUTEX_ERROR;
#endif
    return ret;
}
