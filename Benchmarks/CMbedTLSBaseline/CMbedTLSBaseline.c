#include "CMbedTLSBaseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <openssl/evp.h>

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

int baseline_openssl_digest(const char *name, const uint8_t *buf, size_t len, uint8_t *out) {
    unsigned int n = 0;
    return EVP_Digest(buf, len, out, &n, EVP_get_digestbyname(name), NULL) == 1 ? 0 : -1;
}

int baseline_mbedtls_digest(const char *name, const uint8_t *buf, size_t len, uint8_t *out) {
    const mbedtls_md_info_t *info = mbedtls_md_info_from_string(name);
    return info ? mbedtls_md(info, buf, len, out) : -1;
}

int baseline_copy_and_openssl_sha256(const uint8_t *src, size_t len, uint8_t *dst, uint8_t *out) {
    memcpy(dst, src, len);
    return baseline_openssl_digest("SHA256", dst, len, out);
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

/* ---- The bare cross-process round trip the daemon transport is compared with ---- */
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static uint32_t wait_change(uint32_t *word, uint32_t old, int spins) {
    for (int i = 0; i < spins; i++) {
        uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        if (v != old) return v;
        __builtin_ia32_pause();
    }
    for (;;) {
        uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        if (v != old) return v;
        syscall(SYS_futex, word, FUTEX_WAIT, old, NULL, NULL, 0);
    }
}

int baseline_futex_pingpong(int rounds, int spins, double *out_us) {
    uint32_t *words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (words == MAP_FAILED) return -1;
    memset(words, 0, 4096);
    uint32_t *ping = &words[0], *pong = &words[16];
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        uint32_t last = 0;
        for (;;) {
            last = wait_change(ping, last, spins);
            if (last == 0xFFFFFFFFu) _exit(0);
            __atomic_store_n(pong, last, __ATOMIC_RELEASE);
            syscall(SYS_futex, pong, FUTEX_WAKE, 1, NULL, NULL, 0);
        }
    }
    uint32_t seen = 0;
    for (int i = 0; i < rounds; i++) {
        uint32_t seq = (uint32_t)i + 1;
        double t0 = now_us();
        __atomic_store_n(ping, seq, __ATOMIC_RELEASE);
        syscall(SYS_futex, ping, FUTEX_WAKE, 1, NULL, NULL, 0);
        while (seen != seq) seen = wait_change(pong, seen, spins);
        out_us[i] = now_us() - t0;
    }
    __atomic_store_n(ping, 0xFFFFFFFFu, __ATOMIC_RELEASE);
    syscall(SYS_futex, ping, FUTEX_WAKE, 1, NULL, NULL, 0);
    waitpid(child, NULL, 0);
    munmap(words, 4096);
    return 0;
}

double baseline_memcpy_seconds(const uint8_t *src, uint8_t *dst, size_t len, int rounds) {
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_us();
        memcpy(dst, src, len);
        __asm__ __volatile__("" : : "r"(dst) : "memory");
        double t = (now_us() - t0) / 1e6;
        if (t < best) best = t;
    }
    return best;
}

double baseline_sum_seconds(const uint8_t *src, size_t len, int rounds, uint32_t *sum) {
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_us();
        uint32_t total = 0;
        for (size_t i = 0; i < len; i++) total += src[i];
        __asm__ __volatile__("" : : "r"(total) : "memory");
        double t = (now_us() - t0) / 1e6;
        if (t < best) best = t;
        *sum = total;
    }
    return best;
}

