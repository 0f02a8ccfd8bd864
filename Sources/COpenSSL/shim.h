#ifndef RPROC_TEE_COPENSSL_H
#define RPROC_TEE_COPENSSL_H
/* OpenSSL 3.0 libcrypto (Debian libssl-dev): TEECrypto's second backend, for what mbedTLS 2.28
 * lacks (SHA-3, SHAKE, DSA) and where it is faster (SHA-NI) or copyable (HMAC, CMAC, GCM).
 * Only TEECrypto imports it. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>
#include <openssl/core_names.h>
#endif
