/* A counter that survives the TA, the daemon and the machine (with --state), and a proof of
 * its value: an HMAC under a key that is generated inside the TA and never leaves it. */
#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>

#include <counter_ta.h>

static const char counter_id[] = "counter";
static const char key_id[] = "attestation-key";

TEE_Result TA_CreateEntryPoint(void)
{
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
}

TEE_Result TA_OpenSessionEntryPoint(uint32_t types, TEE_Param params[TEE_NUM_PARAMS], void **session)
{
	(void)types;
	(void)params;
	(void)session;
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *session)
{
	(void)session;
}

/* The stored counter; 0 when there is none yet. */
static TEE_Result load(uint32_t *count)
{
	TEE_ObjectHandle object;
	TEE_Result r = TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, counter_id, sizeof(counter_id) - 1, TEE_DATA_FLAG_ACCESS_READ, &object);
	*count = 0;
	if (r == TEE_ERROR_ITEM_NOT_FOUND)
		return TEE_SUCCESS;
	if (r != TEE_SUCCESS)
		return r;
	size_t n = 0;
	r = TEE_ReadObjectData(object, count, sizeof(*count), &n);
	TEE_CloseObject(object);
	if (r == TEE_SUCCESS && n != sizeof(*count))
		r = TEE_ERROR_CORRUPT_OBJECT;
	return r;
}

static TEE_Result store(uint32_t count)
{
	TEE_ObjectHandle object;
	uint32_t flags = TEE_DATA_FLAG_ACCESS_WRITE | TEE_DATA_FLAG_OVERWRITE;
	TEE_Result r = TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, counter_id, sizeof(counter_id) - 1, flags, TEE_HANDLE_NULL, &count,
						  sizeof(count), &object);
	if (r == TEE_SUCCESS)
		TEE_CloseObject(object);
	return r;
}

/* The TA's HMAC key: made once, kept as a persistent key object, never returned to anyone. */
static TEE_Result attestation_key(TEE_ObjectHandle *key)
{
	TEE_Result r = TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, key_id, sizeof(key_id) - 1, TEE_DATA_FLAG_ACCESS_READ, key);
	if (r != TEE_ERROR_ITEM_NOT_FOUND)
		return r;
	TEE_ObjectHandle fresh;
	if ((r = TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 256, &fresh)) != TEE_SUCCESS)
		return r;
	if ((r = TEE_GenerateKey(fresh, 256, NULL, 0)) == TEE_SUCCESS)
		r = TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, key_id, sizeof(key_id) - 1, TEE_DATA_FLAG_ACCESS_READ, fresh, NULL, 0, key);
	TEE_FreeTransientObject(fresh);
	return r;
}

static TEE_Result attest(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	/* The nonce lives in the client's memory: copy it before use (it may change under us). */
	uint8_t nonce[64];
	size_t nonce_len = p[0].memref.size;
	if (nonce_len == 0 || nonce_len > sizeof(nonce))
		return TEE_ERROR_BAD_PARAMETERS;
	TEE_MemMove(nonce, p[0].memref.buffer, nonce_len);
	if (p[2].memref.size < 32) {
		p[2].memref.size = 32;
		return TEE_ERROR_SHORT_BUFFER;
	}
	uint32_t count;
	TEE_Result r = load(&count);
	if (r != TEE_SUCCESS)
		return r;
	TEE_ObjectHandle key;
	if ((r = attestation_key(&key)) != TEE_SUCCESS)
		return r;
	TEE_OperationHandle mac;
	if ((r = TEE_AllocateOperation(&mac, TEE_ALG_HMAC_SHA256, TEE_MODE_MAC, 256)) == TEE_SUCCESS) {
		r = TEE_SetOperationKey(mac, key);
		if (r == TEE_SUCCESS) {
			TEE_MACInit(mac, NULL, 0);
			TEE_MACUpdate(mac, nonce, nonce_len);
			r = TEE_MACComputeFinal(mac, &count, sizeof(count), p[2].memref.buffer, &p[2].memref.size);
		}
		TEE_FreeOperation(mac);
	}
	TEE_CloseObject(key);
	p[1].value.a = count;
	IMSG("attested counter %u", count);
	return r;
}

TEE_Result TA_InvokeCommandEntryPoint(void *session, uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS])
{
	(void)session;
	uint32_t count;
	TEE_Result r;
	switch (cmd) {
	case TA_COUNTER_CMD_INCREMENT:
	case TA_COUNTER_CMD_READ:
		if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
			return TEE_ERROR_BAD_PARAMETERS;
		if ((r = load(&count)) != TEE_SUCCESS)
			return r;
		if (cmd == TA_COUNTER_CMD_INCREMENT) {
			count++;
			if ((r = store(count)) != TEE_SUCCESS)
				return r;
			DMSG("counter now %u", count);
		}
		params[0].value.a = count;
		return TEE_SUCCESS;
	case TA_COUNTER_CMD_ATTEST:
		return attest(types, params);
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
