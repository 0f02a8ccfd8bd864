#ifndef RPROC_TEE_CMBEDTLS_BASELINE_H
#define RPROC_TEE_CMBEDTLS_BASELINE_H
/*
 * The baseline the benchmarks compare against: the same mbedTLS (and OpenSSL) calls TEECrypto
 * makes, made directly from C with no Swift layer, no locks and no checks beyond mbedTLS's own.
 * Benchmark-only: nothing in Sources/ links this.
 */
#include <stddef.h>
#include <stdint.h>

/* SHA-256 of buf[0..len) into out[32]. Returns mbedTLS's code. */
int baseline_sha256(const uint8_t *buf, size_t len, uint8_t *out);

/* A parsed public key (PEM, NUL-terminated, length counting the NUL); NULL on failure. */
void *baseline_pk_new(const uint8_t *pem, size_t len);
void baseline_pk_free(void *pk);

/* RSASSA-PKCS1-v1_5 SHA-256 verification of a 32-byte digest. 0 = valid. */
int baseline_rsa_verify(void *pk, const uint8_t *digest32, const uint8_t *sig, size_t sig_len);

/* ECDSA verification of a digest with a raw r||s signature (2 x n bytes). 0 = valid. */
int baseline_ecdsa_verify(void *pk, const uint8_t *digest, size_t digest_len, const uint8_t *raw_sig, size_t sig_len);

/* One memcpy of src into dst and one SHA-256 pass over dst: the floor of an authenticated load. */
int baseline_copy_and_sha256(const uint8_t *src, size_t len, uint8_t *dst, uint8_t *out);

/* A digest of buf[0..len) by OpenSSL's libcrypto (EVP name, e.g. "SHA256") or by mbedTLS
 * (its name, e.g. "SHA256"), straight from C. 0 = done. */
int baseline_openssl_digest(const char *name, const uint8_t *buf, size_t len, uint8_t *out);
int baseline_mbedtls_digest(const char *name, const uint8_t *buf, size_t len, uint8_t *out);

/* One memcpy and one SHA-256 pass with OpenSSL (SHA-NI where the CPU has it): the fastest C floor. */
int baseline_copy_and_openssl_sha256(const uint8_t *src, size_t len, uint8_t *dst, uint8_t *out);

/* Peak resident set size of this process so far, in KiB. */
long baseline_peak_rss_kib(void);

/* Resets the process's peak RSS (VmHWM) to its current RSS (Linux clear_refs "5"). 0 = done. */
int baseline_reset_peak_rss(void);

/* VmHWM (peak = 1) or VmRSS (peak = 0) from /proc/self/status, in KiB; -1 if unavailable. */
long baseline_rss_kib(int peak);

/* A bare shared-memory + futex ping-pong between this process and a forked child: the same
 * hybrid wait as the daemon transport (spin `spins` pauses, then FUTEX_WAIT on a MAP_SHARED
 * word). Writes each of `rounds` round trips' duration in microseconds to out_us. 0 = done. */
int baseline_futex_pingpong(int rounds, int spins, double *out_us);

/* memcpy of len bytes, `rounds` times; returns the best time of one copy in seconds. */
double baseline_memcpy_seconds(const uint8_t *src, uint8_t *dst, size_t len, int rounds);

/// Best time of `rounds` sums of `len` bytes read in place (what the hello-world TA's sum does),
/// the plain loop the C compiler vectorizes; the sum in *sum.
double baseline_sum_seconds(const uint8_t *src, size_t len, int rounds, uint32_t *sum);

#endif
