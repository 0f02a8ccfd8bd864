/* rproc-tee TA dev kit: OP-TEE's hash sizes and algorithm helpers. Our own header. */
#ifndef RPROC_TEE_UTEE_DEFINES_H
#define RPROC_TEE_UTEE_DEFINES_H

#include <compiler.h>
#include <stdint.h>
#include <tee_api_defines.h>
#include <tee_api_defines_extensions.h>

#define TEE_MD5_HASH_SIZE 16
#define TEE_SHA1_HASH_SIZE 20
#define TEE_SHA224_HASH_SIZE 28
#define TEE_SHA256_HASH_SIZE 32
#define TEE_SM3_HASH_SIZE 32
#define TEE_SHA384_HASH_SIZE 48
#define TEE_SHA512_HASH_SIZE 64
#define TEE_MD5SHA1_HASH_SIZE (TEE_MD5_HASH_SIZE + TEE_SHA1_HASH_SIZE)
#define TEE_MAX_HASH_SIZE 64
#define TEE_AES_BLOCK_SIZE 16UL
#define TEE_DES_BLOCK_SIZE 8UL
#define TEE_SM4_BLOCK_SIZE 16UL
#define TEE_AES_MAX_KEY_SIZE 32UL

/* The hash a hash, HMAC or RSA/DSA/ECDSA algorithm uses (its TEE_ALG_* hash id). */
#define TEE_ALG_HASH_ALGO(main_hash) (TEE_OPERATION_DIGEST << 28 | (main_hash))

static inline uint32_t __tee_alg_get_main_hash(uint32_t algo)
{
	if (algo == TEE_ALG_RSASSA_PKCS1_V1_5)
		return 0;
	if ((algo & 0xF0000000) == 0x50000000 || (algo & 0xF0000000) == 0x30000000)
		return algo & 0xFF;
	return (algo >> 12) & 0xF;
}
#define TEE_ALG_GET_DIGEST_HASH_SIZE_FOR(h) \
	((h) == TEE_MAIN_ALGO_MD5 ? TEE_MD5_HASH_SIZE : (h) == TEE_MAIN_ALGO_SHA1 ? TEE_SHA1_HASH_SIZE : \
	 (h) == TEE_MAIN_ALGO_SHA224 || (h) == TEE_MAIN_ALGO_SHA3_224 ? TEE_SHA224_HASH_SIZE : \
	 (h) == TEE_MAIN_ALGO_SHA256 || (h) == TEE_MAIN_ALGO_SHA3_256 || (h) == TEE_MAIN_ALGO_SM3 ? TEE_SHA256_HASH_SIZE : \
	 (h) == TEE_MAIN_ALGO_SHA384 || (h) == TEE_MAIN_ALGO_SHA3_384 ? TEE_SHA384_HASH_SIZE : \
	 (h) == TEE_MAIN_ALGO_SHA512 || (h) == TEE_MAIN_ALGO_SHA3_512 ? TEE_SHA512_HASH_SIZE : 0)
#define TEE_ALG_GET_DIGEST_SIZE(algo) TEE_ALG_GET_DIGEST_HASH_SIZE_FOR(__tee_alg_get_main_hash(algo))

#define TEE_ALG_HMAC_ALGO(main_hash) (TEE_OPERATION_MAC << 28 | (main_hash))
#define TEE_DIGEST_HASH_TO_ALGO(algo) TEE_ALG_HASH_ALGO(TEE_ALG_GET_DIGEST_HASH(algo))
#define TEE_INTERNAL_HASH_TO_ALGO(algo) TEE_ALG_HASH_ALGO(TEE_ALG_GET_INTERNAL_HASH(algo))
#define TEE_MAC_SIZE_AES_CBC_MAC_NOPAD
#define TEE_MAC_SIZE_AES_CBC_MAC_PKCS5
#define TEE_MAC_SIZE_AES_CMAC
#define TEE_MAC_SIZE_DES_CBC_MAC_PKCS5
#define HW_UNIQUE_KEY_LENGTH 16

/* TEE_Time arithmetic (milliseconds carried into seconds). */
#define TEE_TIME_MILLIS_BASE 1000
#define TEE_TIME_LT(t1, t2) (((t1).seconds == (t2).seconds) ? ((t1).millis < (t2).millis) : ((t1).seconds < (t2).seconds))
#define TEE_TIME_LE(t1, t2) (((t1).seconds == (t2).seconds) ? ((t1).millis <= (t2).millis) : ((t1).seconds <= (t2).seconds))
#define TEE_TIME_ADD(t1, t2, dst) \
	do { \
		(dst).seconds = (t1).seconds + (t2).seconds; \
		(dst).millis = (t1).millis + (t2).millis; \
		if ((dst).millis >= TEE_TIME_MILLIS_BASE) { \
			(dst).seconds++; \
			(dst).millis -= TEE_TIME_MILLIS_BASE; \
		} \
	} while (0)
#define TEE_TIME_SUB(t1, t2, dst) \
	do { \
		(dst).seconds = (t1).seconds - (t2).seconds; \
		if ((t1).millis < (t2).millis) { \
			(dst).seconds--; \
			(dst).millis = (t1).millis + TEE_TIME_MILLIS_BASE - (t2).millis; \
		} else { \
			(dst).millis = (t1).millis - (t2).millis; \
		} \
	} while (0)

#define TEE_U32_BSWAP(x) __compiler_bswap32((x))
#define TEE_U16_BSWAP(x) __compiler_bswap16((x))
#define TEE_U64_BSWAP(x) __compiler_bswap64((x))
#define TEE_U64_TO_BIG_ENDIAN(x) TEE_U64_BSWAP(x)
#define TEE_U64_FROM_BIG_ENDIAN(x) TEE_U64_BSWAP(x)
#define TEE_U32_TO_BIG_ENDIAN(x) TEE_U32_BSWAP(x)
#define TEE_U32_FROM_BIG_ENDIAN(x) TEE_U32_BSWAP(x)
#define TEE_U16_TO_BIG_ENDIAN(x) TEE_U16_BSWAP(x)
#define TEE_U16_FROM_BIG_ENDIAN(x) TEE_U16_BSWAP(x)
#define TEE_U64_TO_LITTLE_ENDIAN(x) ((uint64_t)(x))
#define TEE_U64_FROM_LITTLE_ENDIAN(x) ((uint64_t)(x))
#define TEE_U32_TO_LITTLE_ENDIAN(x) ((uint32_t)(x))
#define TEE_U32_FROM_LITTLE_ENDIAN(x) ((uint32_t)(x))
#define TEE_U16_TO_LITTLE_ENDIAN(x) ((uint16_t)(x))
#define TEE_U16_FROM_LITTLE_ENDIAN(x) ((uint16_t)(x))

#endif
