/* rproc-tee's kit test TA: each crypto family through the Internal API's operations. */
#include <string.h>
#include <tee_internal_api.h>
#include <utee_defines.h>

#include <kit_test_ta.h>

TEE_Result kit_test_crypto(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS]);
TEE_Result kit_test_more(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS]);
TEE_Result kit_test_families(uint32_t types, TEE_Param params[TEE_NUM_PARAMS]);

#define IN TEE_PARAM_TYPE_MEMREF_INPUT
#define OUT TEE_PARAM_TYPE_MEMREF_OUTPUT
#define NONE TEE_PARAM_TYPE_NONE

static TEE_Result sha256(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_OperationHandle op;
	TEE_Result r = TEE_AllocateOperation(&op, TEE_ALG_SHA256, TEE_MODE_DIGEST, 0);
	if (r != TEE_SUCCESS)
		return r;
	/* In two pieces: an update, then the final one. */
	size_t half = p[0].memref.size / 2;
	TEE_DigestUpdate(op, p[0].memref.buffer, half);
	r = TEE_DigestDoFinal(op, (uint8_t *)p[0].memref.buffer + half, p[0].memref.size - half, p[1].memref.buffer, &p[1].memref.size);
	TEE_FreeOperation(op);
	return r;
}

static TEE_Result hmac(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_ObjectHandle key;
	TEE_Result r = TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, p[0].memref.size * 8, &key);
	if (r != TEE_SUCCESS)
		return r;
	TEE_Attribute a;
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, p[0].memref.buffer, p[0].memref.size);
	if ((r = TEE_PopulateTransientObject(key, &a, 1)) != TEE_SUCCESS)
		return r;
	TEE_OperationHandle op;
	if ((r = TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256, TEE_MODE_MAC, p[0].memref.size * 8)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_SetOperationKey(op, key)) != TEE_SUCCESS)
		return r;
	TEE_FreeTransientObject(key);
	TEE_MACInit(op, NULL, 0);
	TEE_MACUpdate(op, p[1].memref.buffer, p[1].memref.size);
	r = TEE_MACComputeFinal(op, NULL, 0, p[2].memref.buffer, &p[2].memref.size);
	TEE_FreeOperation(op);
	return r;
}

static TEE_Result aes_ecb(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_ObjectHandle key;
	TEE_Result r = TEE_AllocateTransientObject(TEE_TYPE_AES, 128, &key);
	if (r != TEE_SUCCESS)
		return r;
	TEE_Attribute a;
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, p[0].memref.buffer, p[0].memref.size);
	if ((r = TEE_PopulateTransientObject(key, &a, 1)) != TEE_SUCCESS)
		return r;
	TEE_OperationHandle op;
	if ((r = TEE_AllocateOperation(&op, TEE_ALG_AES_ECB_NOPAD, TEE_MODE_ENCRYPT, 128)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_SetOperationKey(op, key)) != TEE_SUCCESS)
		return r;
	TEE_CloseObject(key);
	TEE_CipherInit(op, NULL, 0);
	r = TEE_CipherDoFinal(op, p[1].memref.buffer, p[1].memref.size, p[2].memref.buffer, &p[2].memref.size);
	TEE_FreeOperation(op);
	return r;
}

static TEE_Result aes_gcm(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_ObjectHandle key;
	TEE_Result r = TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &key);
	if (r != TEE_SUCCESS)
		return r;
	if ((r = TEE_GenerateKey(key, 256, NULL, 0)) != TEE_SUCCESS)
		return r;
	static const char message[] = "authenticated and encrypted by a C TA";
	uint8_t nonce[12], sealed[64], tag[16], opened[64];
	size_t sealed_len = sizeof(sealed), tag_len = sizeof(tag), opened_len = sizeof(opened);
	TEE_GenerateRandom(nonce, sizeof(nonce));
	TEE_OperationHandle enc, dec;
	if ((r = TEE_AllocateOperation(&enc, TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, 256)) != TEE_SUCCESS ||
	    (r = TEE_AllocateOperation(&dec, TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, 256)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_SetOperationKey(enc, key)) != TEE_SUCCESS || (r = TEE_SetOperationKey(dec, key)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_AEInit(enc, nonce, sizeof(nonce), 128, 0, 0)) != TEE_SUCCESS)
		return r;
	TEE_AEUpdateAAD(enc, "aad", 3);
	if ((r = TEE_AEEncryptFinal(enc, message, sizeof(message), sealed, &sealed_len, tag, &tag_len)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_AEInit(dec, nonce, sizeof(nonce), 128, 0, 0)) != TEE_SUCCESS)
		return r;
	TEE_AEUpdateAAD(dec, "aad", 3);
	int ok = TEE_AEDecryptFinal(dec, sealed, sealed_len, opened, &opened_len, tag, tag_len) == TEE_SUCCESS &&
		 opened_len == sizeof(message) && !TEE_MemCompare(opened, message, sizeof(message));
	tag[0] ^= 1;
	TEE_ResetOperation(dec);
	if ((r = TEE_AEInit(dec, nonce, sizeof(nonce), 128, 0, 0)) != TEE_SUCCESS)
		return r;
	TEE_AEUpdateAAD(dec, "aad", 3);
	opened_len = sizeof(opened);
	ok = ok && TEE_AEDecryptFinal(dec, sealed, sealed_len, opened, &opened_len, tag, tag_len) == TEE_ERROR_MAC_INVALID;
	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(key);
	p[0].value.a = ok;
	return TEE_SUCCESS;
}

static TEE_Result rsa(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_ObjectHandle key;
	TEE_Result r = TEE_AllocateTransientObject(TEE_TYPE_RSA_KEYPAIR, 1024, &key);
	if (r != TEE_SUCCESS)
		return r;
	if ((r = TEE_GenerateKey(key, 1024, NULL, 0)) != TEE_SUCCESS)
		return r;
	uint8_t digest[32], signature[128];
	size_t signature_len = sizeof(signature);
	TEE_GenerateRandom(digest, sizeof(digest));
	TEE_OperationHandle sign, verify;
	if ((r = TEE_AllocateOperation(&sign, TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, TEE_MODE_SIGN, 1024)) != TEE_SUCCESS ||
	    (r = TEE_AllocateOperation(&verify, TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, TEE_MODE_VERIFY, 1024)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_SetOperationKey(sign, key)) != TEE_SUCCESS || (r = TEE_SetOperationKey(verify, key)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_AsymmetricSignDigest(sign, NULL, 0, digest, sizeof(digest), signature, &signature_len)) != TEE_SUCCESS)
		return r;
	int ok = TEE_AsymmetricVerifyDigest(verify, NULL, 0, digest, sizeof(digest), signature, signature_len) == TEE_SUCCESS;
	digest[0] ^= 1;
	ok = ok && TEE_AsymmetricVerifyDigest(verify, NULL, 0, digest, sizeof(digest), signature, signature_len) == TEE_ERROR_SIGNATURE_INVALID;
	uint8_t modulus[128];
	size_t modulus_len = sizeof(modulus);
	ok = ok && TEE_GetObjectBufferAttribute(key, TEE_ATTR_RSA_MODULUS, modulus, &modulus_len) == TEE_SUCCESS && modulus_len == 128;
	TEE_FreeOperation(sign);
	TEE_FreeOperation(verify);
	TEE_FreeTransientObject(key);
	p[0].value.a = ok;
	return TEE_SUCCESS;
}

static TEE_Result ec(TEE_Param p[TEE_NUM_PARAMS])
{
	TEE_Attribute curve;
	TEE_InitValueAttribute(&curve, TEE_ATTR_ECC_CURVE, TEE_ECC_CURVE_NIST_P256, 0);
	TEE_ObjectHandle signer, alice, bob;
	TEE_Result r;
	if ((r = TEE_AllocateTransientObject(TEE_TYPE_ECDSA_KEYPAIR, 256, &signer)) != TEE_SUCCESS ||
	    (r = TEE_GenerateKey(signer, 256, &curve, 1)) != TEE_SUCCESS)
		return r;
	uint8_t digest[32], signature[64];
	size_t signature_len = sizeof(signature);
	TEE_GenerateRandom(digest, sizeof(digest));
	TEE_OperationHandle sign, verify;
	if ((r = TEE_AllocateOperation(&sign, TEE_ALG_ECDSA_SHA256, TEE_MODE_SIGN, 256)) != TEE_SUCCESS ||
	    (r = TEE_AllocateOperation(&verify, TEE_ALG_ECDSA_SHA256, TEE_MODE_VERIFY, 256)) != TEE_SUCCESS ||
	    (r = TEE_SetOperationKey(sign, signer)) != TEE_SUCCESS || (r = TEE_SetOperationKey(verify, signer)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_AsymmetricSignDigest(sign, NULL, 0, digest, sizeof(digest), signature, &signature_len)) != TEE_SUCCESS)
		return r;
	int ok = TEE_AsymmetricVerifyDigest(verify, NULL, 0, digest, sizeof(digest), signature, signature_len) == TEE_SUCCESS;
	/* ECDH: each side derives from its key pair and the other's public point. */
	if ((r = TEE_AllocateTransientObject(TEE_TYPE_ECDH_KEYPAIR, 256, &alice)) != TEE_SUCCESS ||
	    (r = TEE_GenerateKey(alice, 256, &curve, 1)) != TEE_SUCCESS ||
	    (r = TEE_AllocateTransientObject(TEE_TYPE_ECDH_KEYPAIR, 256, &bob)) != TEE_SUCCESS ||
	    (r = TEE_GenerateKey(bob, 256, &curve, 1)) != TEE_SUCCESS)
		return r;
	uint8_t secrets[2][32];
	TEE_ObjectHandle pairs[2] = { alice, bob };
	for (int side = 0; side < 2; side++) {
		uint8_t x[32], y[32];
		size_t x_len = sizeof(x), y_len = sizeof(y);
		TEE_ObjectHandle other = pairs[1 - side];
		if ((r = TEE_GetObjectBufferAttribute(other, TEE_ATTR_ECC_PUBLIC_VALUE_X, x, &x_len)) != TEE_SUCCESS ||
		    (r = TEE_GetObjectBufferAttribute(other, TEE_ATTR_ECC_PUBLIC_VALUE_Y, y, &y_len)) != TEE_SUCCESS)
			return r;
		TEE_Attribute point[2];
		TEE_InitRefAttribute(&point[0], TEE_ATTR_ECC_PUBLIC_VALUE_X, x, x_len);
		TEE_InitRefAttribute(&point[1], TEE_ATTR_ECC_PUBLIC_VALUE_Y, y, y_len);
		TEE_OperationHandle derive;
		TEE_ObjectHandle secret;
		if ((r = TEE_AllocateOperation(&derive, TEE_ALG_ECDH_DERIVE_SHARED_SECRET, TEE_MODE_DERIVE, 256)) != TEE_SUCCESS ||
		    (r = TEE_SetOperationKey(derive, pairs[side])) != TEE_SUCCESS ||
		    (r = TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 256, &secret)) != TEE_SUCCESS)
			return r;
		TEE_DeriveKey(derive, point, 2, secret);
		size_t n = sizeof(secrets[side]);
		if ((r = TEE_GetObjectBufferAttribute(secret, TEE_ATTR_SECRET_VALUE, secrets[side], &n)) != TEE_SUCCESS)
			return r;
		TEE_FreeOperation(derive);
		TEE_FreeTransientObject(secret);
	}
	ok = ok && !TEE_MemCompare(secrets[0], secrets[1], sizeof(secrets[0]));
	TEE_FreeOperation(sign);
	TEE_FreeOperation(verify);
	TEE_FreeTransientObject(signer);
	TEE_FreeTransientObject(alice);
	TEE_FreeTransientObject(bob);
	p[0].value.a = ok;
	return TEE_SUCCESS;
}

TEE_Result kit_test_crypto(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS])
{
	uint32_t value_out = TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_OUTPUT, NONE, NONE, NONE);
	switch (cmd) {
	case KIT_TEST_CMD_SHA256:
		return types == TEE_PARAM_TYPES(IN, OUT, NONE, NONE) ? sha256(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_HMAC:
		return types == TEE_PARAM_TYPES(IN, IN, OUT, NONE) ? hmac(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_AES_ECB:
		return types == TEE_PARAM_TYPES(IN, IN, OUT, NONE) ? aes_ecb(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_AES_GCM:
		return types == value_out ? aes_gcm(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_RSA:
		return types == value_out ? rsa(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_FAMILIES:
		return kit_test_families(types, params);
	case KIT_TEST_CMD_EC:
		return types == value_out ? ec(params) : TEE_ERROR_BAD_PARAMETERS;
	case KIT_TEST_CMD_BUILD_FLAGS:
		params[0].value.a = KIT_TEST_PER_FILE_FLAG;
		return types == value_out ? TEE_SUCCESS : TEE_ERROR_BAD_PARAMETERS;
	default:
		return kit_test_more(cmd, types, params);
	}
}
