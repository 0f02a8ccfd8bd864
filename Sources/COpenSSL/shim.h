#ifndef RPROC_TEE_COPENSSL_H
#define RPROC_TEE_COPENSSL_H
/* OpenSSL 3.0 libcrypto (Debian libssl-dev): TEECrypto's second backend, for what mbedTLS 2.28
 * lacks (SHA-3, SHAKE) and where it is faster (SHA-NI). Only TEECrypto imports it. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#endif
