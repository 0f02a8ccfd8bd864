#include "CMbedTLSBaseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

int baseline_sha256(const uint8_t *buf, size_t len, uint8_t *out) {
    return mbedtls_sha256_ret(buf, len, out, 0);
}

void *baseline_pk_new(const uint8_t *pem, size_t len) {
    mbedtls_pk_context *pk = malloc(sizeof *pk);
    if (pk == NULL) return NULL;
    mbedtls_pk_init(pk);
    if (mbedtls_pk_parse_public_key(pk, pem, len) != 0) {
        mbedtls_pk_free(pk);
        free(pk);
        return NULL;
    }
    return pk;
}

void baseline_pk_free(void *pk) {
    mbedtls_pk_free(pk);
    free(pk);
}

int baseline_rsa_verify(void *pk, const uint8_t *digest32, const uint8_t *sig, size_t sig_len) {
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*(mbedtls_pk_context *)pk);
    if (sig_len != mbedtls_rsa_get_len(rsa)) return -1;
    return mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_SHA256, 32, digest32, sig);
}

int baseline_ecdsa_verify(void *pk, const uint8_t *digest, size_t digest_len, const uint8_t *raw_sig, size_t sig_len) {
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*(mbedtls_pk_context *)pk);
    size_t n = sig_len / 2;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ret = mbedtls_mpi_read_binary(&r, raw_sig, n);
    if (ret == 0) ret = mbedtls_mpi_read_binary(&s, raw_sig + n, n);
    if (ret == 0) ret = mbedtls_ecdsa_verify(&ec->grp, digest, digest_len, &ec->Q, &r, &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ret;
}

int baseline_copy_and_sha256(const uint8_t *src, size_t len, uint8_t *dst, uint8_t *out) {
    memcpy(dst, src, len);
    return mbedtls_sha256_ret(dst, len, out, 0);
}

long baseline_peak_rss_kib(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
    return usage.ru_maxrss;
}

int baseline_reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

long baseline_rss_kib(int peak) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long value = -1;
    const char *key = peak ? "VmHWM:" : "VmRSS:";
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, strlen(key)) == 0) { value = strtol(line + strlen(key), NULL, 10); break; }
    }
    fclose(f);
    return value;
}
