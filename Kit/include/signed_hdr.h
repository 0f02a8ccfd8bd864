/* rproc-tee TA dev kit: OP-TEE's signed TA header (<uuid>.ta), as its export gives it to
 * normal-world programs (xtest's 1008 damages each field). The layout is OP-TEE's interface; the
 * daemon's reader is FirmwareImage's SignedTA and SignedTAChain. */
#ifndef RPROC_TEE_SIGNED_HDR_H
#define RPROC_TEE_SIGNED_HDR_H

#include <stddef.h>
#include <stdint.h>
#include <tee_api_types.h>

enum shdr_img_type {
	SHDR_TA = 0,
	SHDR_BOOTSTRAP_TA = 1,
	SHDR_ENCRYPTED_TA = 2,
	SHDR_SUBKEY = 3,
};

#define SHDR_MAGIC 0x4f545348

/* Followed by hash_size bytes of hash and sig_size bytes of signature. */
struct shdr {
	uint32_t magic;
	uint32_t img_type;
	uint32_t img_size;
	uint32_t algo;
	uint16_t hash_size;
	uint16_t sig_size;
};

/* The header with its hash and signature; 0 if the sizes overflow. */
static inline size_t shdr_get_size(const struct shdr *shdr)
{
	size_t s = sizeof(*shdr);

	if (__builtin_add_overflow(s, shdr->hash_size, &s) || __builtin_add_overflow(s, shdr->sig_size, &s))
		return 0;
	return s;
}

#define SHDR_GET_SIZE(x) shdr_get_size((x))
#define SHDR_GET_HASH(x) (uint8_t *)(((struct shdr *)(x)) + 1)
#define SHDR_GET_SIG(x) (SHDR_GET_HASH(x) + (x)->hash_size)

/* img_type SHDR_SUBKEY: the image is this, its attributes' bytes, then the name follows. */
struct shdr_subkey {
	uint8_t uuid[sizeof(TEE_UUID)];
	uint32_t name_size;
	uint32_t subkey_version;
	uint32_t max_depth;
	uint32_t algo;
	uint32_t attr_count;
	struct shdr_subkey_attr {
		uint32_t id;
		uint32_t offs;
		uint32_t size;
	} attrs[];
};

/* img_type SHDR_BOOTSTRAP_TA and SHDR_ENCRYPTED_TA: after the signed header. */
struct shdr_bootstrap_ta {
	uint8_t uuid[sizeof(TEE_UUID)];
	uint32_t ta_version;
};

/* img_type SHDR_ENCRYPTED_TA: after the bootstrap header, followed by the IV and the tag. */
struct shdr_encrypted_ta {
	uint32_t enc_algo;
	uint32_t flags;
	uint16_t iv_size;
	uint16_t tag_size;
};

#define SHDR_ENC_KEY_TYPE_MASK 0x1

enum shdr_enc_key_type {
	SHDR_ENC_KEY_DEV_SPECIFIC = 0,
	SHDR_ENC_KEY_CLASS_WIDE = 1,
};

static inline size_t shdr_enc_get_size(const struct shdr_encrypted_ta *ehdr)
{
	size_t s = sizeof(*ehdr);

	if (__builtin_add_overflow(s, ehdr->iv_size, &s) || __builtin_add_overflow(s, ehdr->tag_size, &s))
		return 0;
	return s;
}

#define SHDR_ENC_GET_SIZE(x) shdr_enc_get_size((x))
#define SHDR_ENC_GET_IV(x) ((uint8_t *)(((struct shdr_encrypted_ta *)(x)) + 1))
#define SHDR_ENC_GET_TAG(x) (SHDR_ENC_GET_IV(x) + (x)->iv_size)

#endif
