/* rproc-tee's kit test TA: entry points, parameters, storage, properties, time, panics,
 * cancellation, TA-to-TA calls, memory. Written against GP 1.3 (no compat layer). */
#include <string.h>
#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>
#include <utee_defines.h>

#include <kit_test_ta.h>

TEE_Result kit_test_crypto(uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS]);

static int created;

TEE_Result TA_CreateEntryPoint(void)
{
	created++;
	DMSG("created");
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
	DMSG("destroyed");
}

TEE_Result TA_OpenSessionEntryPoint(uint32_t types, TEE_Param params[TEE_NUM_PARAMS], void **session)
{
	(void)types;
	(void)params;
	*session = &created;
	return created == 1 ? TEE_SUCCESS : TEE_ERROR_BAD_STATE;
}

void TA_CloseSessionEntryPoint(void *session)
{
	if (session != &created)
		TEE_Panic(TEE_ERROR_BAD_STATE);
}

static TEE_Result values(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	uint32_t a = p[0].value.a, b = p[0].value.b;
	p[0].value.a = a + b;
	p[0].value.b = a * b;
	return TEE_SUCCESS;
}

static TEE_Result memrefs(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INOUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	uint8_t *bytes = p[0].memref.buffer;
	size_t n = p[0].memref.size;
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = bytes[i];
		bytes[i] = bytes[n - 1 - i];
		bytes[n - 1 - i] = t;
	}
	size_t wanted = p[2].value.a;
	if (p[1].memref.size < wanted) {
		p[1].memref.size = wanted;
		return TEE_ERROR_SHORT_BUFFER;
	}
	TEE_MemFill(p[1].memref.buffer, 0xA5, wanted);
	p[1].memref.size = wanted;
	return TEE_SUCCESS;
}

static TEE_Result storage(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	char id[TEE_OBJECT_ID_MAX_LEN];
	size_t id_len = p[0].memref.size;
	if (id_len > sizeof(id))
		return TEE_ERROR_BAD_PARAMETERS;
	TEE_MemMove(id, p[0].memref.buffer, id_len);
	TEE_ObjectHandle object;
	uint32_t flags = TEE_DATA_FLAG_ACCESS_READ | TEE_DATA_FLAG_ACCESS_WRITE | TEE_DATA_FLAG_ACCESS_WRITE_META | TEE_DATA_FLAG_OVERWRITE;
	TEE_Result r = TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, id, id_len, flags, TEE_HANDLE_NULL, p[1].memref.buffer,
						  p[1].memref.size, &object);
	if (r != TEE_SUCCESS)
		return r;
	TEE_CloseObject(object);
	/* Reopen, check its size, read it back, rename it and find it under the new id. */
	r = TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, id, id_len, TEE_DATA_FLAG_ACCESS_READ | TEE_DATA_FLAG_ACCESS_WRITE_META, &object);
	if (r != TEE_SUCCESS)
		return r;
	TEE_ObjectInfo info;
	r = TEE_GetObjectInfo1(object, &info);
	if (r != TEE_SUCCESS || info.dataSize != p[1].memref.size)
		return r != TEE_SUCCESS ? r : TEE_ERROR_CORRUPT_OBJECT;
	size_t count = 0;
	r = TEE_ReadObjectData(object, p[2].memref.buffer, p[2].memref.size, &count);
	if (r != TEE_SUCCESS)
		return r;
	p[2].memref.size = count;
	static const char renamed[] = "kit-test-renamed";
	r = TEE_RenamePersistentObject(object, renamed, sizeof(renamed) - 1);
	if (r != TEE_SUCCESS)
		return r;
	TEE_ObjectEnumHandle e;
	r = TEE_AllocatePersistentObjectEnumerator(&e);
	if (r != TEE_SUCCESS)
		return r;
	r = TEE_StartPersistentObjectEnumerator(e, TEE_STORAGE_PRIVATE);
	int found = 0;
	while (r == TEE_SUCCESS) {
		char name[TEE_OBJECT_ID_MAX_LEN];
		size_t name_len = sizeof(name);
		r = TEE_GetNextPersistentObject(e, &info, name, &name_len);
		if (r == TEE_SUCCESS && name_len == sizeof(renamed) - 1 && !TEE_MemCompare(name, renamed, name_len))
			found = 1;
	}
	TEE_FreePersistentObjectEnumerator(e);
	r = TEE_CloseAndDeletePersistentObject1(object);
	if (r != TEE_SUCCESS)
		return r;
	return found ? TEE_SUCCESS : TEE_ERROR_ITEM_NOT_FOUND;
}

static TEE_Result properties(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	char description[64], version[16], motto[32];
	size_t n = sizeof(description);
	TEE_Result r = TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "gpd.ta.description", description, &n);
	if (r != TEE_SUCCESS)
		return r;
	n = sizeof(version);
	if ((r = TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "gpd.ta.version", version, &n)) != TEE_SUCCESS)
		return r;
	uint32_t answer = 0;
	if ((r = TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "org.rproc-tee.kit_test.answer", &answer)) != TEE_SUCCESS)
		return r;
	n = sizeof(motto);
	if ((r = TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "org.rproc-tee.kit_test.motto", motto, &n)) != TEE_SUCCESS)
		return r;
	TEE_Identity client;
	if ((r = TEE_GetPropertyAsIdentity(TEE_PROPSET_CURRENT_CLIENT, "gpd.client.identity", &client)) != TEE_SUCCESS)
		return r;
	bool single = false;
	if ((r = TEE_GetPropertyAsBool(TEE_PROPSET_CURRENT_TA, "gpd.ta.singleInstance", &single)) != TEE_SUCCESS)
		return r;
	/* A property that does not exist, and a too-small buffer. */
	n = sizeof(version);
	if (TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "no.such.property", version, &n) != TEE_ERROR_ITEM_NOT_FOUND)
		return TEE_ERROR_GENERIC;
	n = 2;
	if (TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "gpd.ta.description", version, &n) != TEE_ERROR_SHORT_BUFFER ||
	    n != strlen(description) + 1)
		return TEE_ERROR_GENERIC;
	/* An enumerator over the TA's own properties finds the extension one. */
	TEE_PropSetHandle e;
	if ((r = TEE_AllocatePropertyEnumerator(&e)) != TEE_SUCCESS)
		return r;
	TEE_StartPropertyEnumerator(e, TEE_PROPSET_CURRENT_TA);
	int seen = 0;
	do {
		char name[64];
		size_t name_len = sizeof(name);
		if (TEE_GetPropertyName(e, name, &name_len) == TEE_SUCCESS && !strcmp(name, "org.rproc-tee.kit_test.answer"))
			seen = 1;
	} while (TEE_GetNextProperty(e) == TEE_SUCCESS);
	TEE_FreePropertyEnumerator(e);
	int len = snprintf(p[0].memref.buffer, p[0].memref.size, "%s|%s|%u|%s|%u|%d|%d", description, version, answer, motto,
			   client.login, single, seen);
	if (len < 0 || (size_t)len >= p[0].memref.size)
		return TEE_ERROR_SHORT_BUFFER;
	p[0].memref.size = (size_t)len;
	return TEE_SUCCESS;
}

static TEE_Result time_and_wait(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	TEE_Time start, end, persistent = { 1000, 500 }, later;
	TEE_GetSystemTime(&start);
	TEE_Result r = TEE_Wait(p[0].value.a);
	if (r != TEE_SUCCESS)
		return r;
	TEE_GetSystemTime(&end);
	TEE_Time spent;
	TEE_TIME_SUB(end, start, spent);
	p[0].value.a = spent.seconds * 1000 + spent.millis;
	if ((r = TEE_SetTAPersistentTime(&persistent)) != TEE_SUCCESS)
		return r;
	TEE_Wait(20);
	if ((r = TEE_GetTAPersistentTime(&later)) != TEE_SUCCESS)
		return r;
	p[0].value.b = TEE_TIME_LT(persistent, later) && later.seconds < 1002;
	return TEE_SUCCESS;
}

static TEE_Result ta_to_ta(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	static const TEE_UUID hello = { 0x8aaaf200, 0x2450, 0x11e4, { 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b } };
	TEE_TASessionHandle session;
	uint32_t origin = 0;
	TEE_Result r = TEE_OpenTASession(&hello, TEE_TIMEOUT_INFINITE, 0, NULL, &session, &origin);
	if (r != TEE_SUCCESS)
		return r;
	TEE_Param q[TEE_NUM_PARAMS] = { 0 };
	q[0].value.a = p[0].value.a;
	r = TEE_InvokeTACommand(session, TEE_TIMEOUT_INFINITE, 0, TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_NONE,
				 TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE), q, &origin);
	TEE_CloseTASession(session);
	p[0].value.a = q[0].value.a;
	p[0].value.b = origin;
	return r;
}

static TEE_Result malloc_limit(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	void *huge = TEE_Malloc(2 * 256 * 1024, 0);
	uint8_t *small = TEE_Malloc(1024, TEE_MALLOC_FILL_ZERO);
	int zeroed = small != NULL;
	for (int i = 0; small && i < 1024; i++)
		zeroed &= small[i] == 0;
	small = TEE_Realloc(small, 4096);
	p[0].value.a = huge == NULL && zeroed && small != NULL;
	TEE_Free(small);
	TEE_Free(huge);
	return TEE_SUCCESS;
}

static TEE_Result access_rights(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	if (types != TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	uint8_t own[64];
	void *shared = p[0].memref.buffer;
	size_t n = p[0].memref.size;
	uint32_t bits = 0;
	bits |= (TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_READ | TEE_MEMORY_ACCESS_ANY_OWNER, shared, n) == TEE_SUCCESS) << 0;
	bits |= (TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_READ, shared, n) == TEE_ERROR_ACCESS_DENIED) << 1;
	bits |= (TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_WRITE | TEE_MEMORY_ACCESS_ANY_OWNER, shared, n) == TEE_ERROR_ACCESS_DENIED) << 2;
	bits |= (TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_READ | TEE_MEMORY_ACCESS_WRITE, own, sizeof(own)) == TEE_SUCCESS) << 3;
	bits |= (TEE_CheckMemoryAccessRights(TEE_MEMORY_ACCESS_READ, (void *)(uintptr_t)16, 16) == TEE_ERROR_ACCESS_DENIED) << 4;
	p[1].value.a = bits;
	return TEE_SUCCESS;
}

TEE_Result TA_InvokeCommandEntryPoint(void *session, uint32_t cmd, uint32_t types, TEE_Param params[TEE_NUM_PARAMS])
{
	(void)session;
	switch (cmd) {
	case KIT_TEST_CMD_VALUES:
		return values(types, params);
	case KIT_TEST_CMD_MEMREFS:
		return memrefs(types, params);
	case KIT_TEST_CMD_STORAGE:
		return storage(types, params);
	case KIT_TEST_CMD_PROPERTIES:
		return properties(types, params);
	case KIT_TEST_CMD_TIME:
		return time_and_wait(types, params);
	case KIT_TEST_CMD_PANIC:
		TEE_Panic(params[0].value.a);
	case KIT_TEST_CMD_CANCELLABLE_WAIT:
		TEE_UnmaskCancellation();
		return TEE_Wait(params[0].value.a);
	case KIT_TEST_CMD_TA_TO_TA:
		return ta_to_ta(types, params);
	case KIT_TEST_CMD_BAD_HANDLE:
		TEE_CloseObject((TEE_ObjectHandle)(uintptr_t)0x1234);
		return TEE_SUCCESS;
	case KIT_TEST_CMD_MALLOC:
		return malloc_limit(types, params);
	case KIT_TEST_CMD_ACCESS_RIGHTS:
		return access_rights(types, params);
	default:
		return kit_test_crypto(cmd, types, params);
	}
}
