// libutee.so: the Internal API functions that the host's runtime carries out — properties, other
// TAs, objects, storage, operations — each checking what GP requires of its arguments and packing
// them into one rproc_tee_call.

#include "utee_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t h(const void *handle) { return (uint64_t)(uintptr_t)handle; }

/// Calls that GP defines as returning nothing: a failure there is the TA's error, i.e. a panic.
static void must(TEE_Result r, const char *function)
{
    if (r != TEE_SUCCESS)
        utee_panic(r, function);
}

// MARK: Properties

static TEE_Result property(TEE_PropSetHandle set, const char *name, uint32_t kind, void *out, size_t *out_len, struct rproc_tee_call *c)
{
    c->handle[0] = h(set);
    c->value[0] = kind;
    if (name) {
        c->in[0] = name;
        c->in_len[0] = strlen(name);
    }
    c->out[0] = out;
    c->out_len[0] = out_len ? *out_len : 0;
    TEE_Result r = utee_call(RPROC_TEE_FN_PROPERTY_GET, c);
    if (out_len)
        *out_len = c->out_len[0];
    return r;
}

TEE_Result TEE_GetPropertyAsString(TEE_PropSetHandle propsetOrEnumerator, const char *name, char *valueBuffer, size_t *valueBufferLen)
{
    REQUIRE(valueBufferLen && (valueBuffer || !*valueBufferLen), "TEE_GetPropertyAsString");
    struct rproc_tee_call c = { 0 };
    return property(propsetOrEnumerator, name, RPROC_TEE_PROP_STRING, valueBuffer, valueBufferLen, &c);
}

TEE_Result TEE_GetPropertyAsBool(TEE_PropSetHandle propsetOrEnumerator, const char *name, bool *value)
{
    REQUIRE(value, "TEE_GetPropertyAsBool");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = property(propsetOrEnumerator, name, RPROC_TEE_PROP_BOOL, NULL, NULL, &c);
    *value = r == TEE_SUCCESS && c.value[1];
    return r;
}

TEE_Result TEE_GetPropertyAsU32(TEE_PropSetHandle propsetOrEnumerator, const char *name, uint32_t *value)
{
    REQUIRE(value, "TEE_GetPropertyAsU32");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = property(propsetOrEnumerator, name, RPROC_TEE_PROP_U32, NULL, NULL, &c);
    *value = r == TEE_SUCCESS ? (uint32_t)c.value[1] : 0;
    return r;
}

TEE_Result TEE_GetPropertyAsU64(TEE_PropSetHandle propsetOrEnumerator, const char *name, uint64_t *value)
{
    REQUIRE(value, "TEE_GetPropertyAsU64");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = property(propsetOrEnumerator, name, RPROC_TEE_PROP_U64, NULL, NULL, &c);
    *value = r == TEE_SUCCESS ? c.value[1] : 0;
    return r;
}

TEE_Result TEE_GetPropertyAsBinaryBlock(TEE_PropSetHandle propsetOrEnumerator, const char *name, void *valueBuffer, size_t *valueBufferLen)
{
    REQUIRE(valueBufferLen && (valueBuffer || !*valueBufferLen), "TEE_GetPropertyAsBinaryBlock");
    struct rproc_tee_call c = { 0 };
    return property(propsetOrEnumerator, name, RPROC_TEE_PROP_BINARY, valueBuffer, valueBufferLen, &c);
}

TEE_Result TEE_GetPropertyAsUUID(TEE_PropSetHandle propsetOrEnumerator, const char *name, TEE_UUID *value)
{
    REQUIRE(value, "TEE_GetPropertyAsUUID");
    struct rproc_tee_call c = { 0 };
    size_t len = sizeof(*value);
    TEE_Result r = property(propsetOrEnumerator, name, RPROC_TEE_PROP_UUID, value, &len, &c);
    if (r != TEE_SUCCESS)
        memset(value, 0, sizeof(*value));
    return r;
}

TEE_Result TEE_GetPropertyAsIdentity(TEE_PropSetHandle propsetOrEnumerator, const char *name, TEE_Identity *value)
{
    REQUIRE(value, "TEE_GetPropertyAsIdentity");
    struct rproc_tee_call c = { 0 };
    size_t len = sizeof(value->uuid);
    TEE_Result r = property(propsetOrEnumerator, name, RPROC_TEE_PROP_IDENTITY, &value->uuid, &len, &c);
    value->login = r == TEE_SUCCESS ? (uint32_t)c.value[1] : 0;
    if (r != TEE_SUCCESS)
        memset(&value->uuid, 0, sizeof(value->uuid));
    return r;
}

TEE_Result TEE_AllocatePropertyEnumerator(TEE_PropSetHandle *enumerator)
{
    REQUIRE(enumerator, "TEE_AllocatePropertyEnumerator");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = utee_call(RPROC_TEE_FN_PROPENUM_ALLOCATE, &c);
    *enumerator = r == TEE_SUCCESS ? (TEE_PropSetHandle)(uintptr_t)c.value[0] : TEE_HANDLE_NULL;
    return r;
}

void TEE_FreePropertyEnumerator(TEE_PropSetHandle enumerator)
{
    struct rproc_tee_call c = { .handle = { h(enumerator) } };
    utee_call(RPROC_TEE_FN_PROPENUM_FREE, &c);
}

void TEE_StartPropertyEnumerator(TEE_PropSetHandle enumerator, TEE_PropSetHandle propSet)
{
    struct rproc_tee_call c = { .handle = { h(enumerator), h(propSet) } };
    utee_call(RPROC_TEE_FN_PROPENUM_START, &c);
}

void TEE_ResetPropertyEnumerator(TEE_PropSetHandle enumerator)
{
    struct rproc_tee_call c = { .handle = { h(enumerator) } };
    utee_call(RPROC_TEE_FN_PROPENUM_RESET, &c);
}

TEE_Result TEE_GetPropertyName(TEE_PropSetHandle enumerator, void *nameBuffer, size_t *nameBufferLen)
{
    REQUIRE(nameBufferLen && (nameBuffer || !*nameBufferLen), "TEE_GetPropertyName");
    struct rproc_tee_call c = { .handle = { h(enumerator) }, .out = { nameBuffer }, .out_len = { *nameBufferLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_PROPENUM_NAME, &c);
    *nameBufferLen = c.out_len[0];
    return r;
}

TEE_Result TEE_GetNextProperty(TEE_PropSetHandle enumerator)
{
    struct rproc_tee_call c = { .handle = { h(enumerator) } };
    return utee_call(RPROC_TEE_FN_PROPENUM_NEXT, &c);
}

// MARK: Other TAs

static void check_params(uint32_t types, const TEE_Param *params, const char *function)
{
    for (int i = 0; i < TEE_NUM_PARAMS; i++) {
        uint32_t t = TEE_PARAM_TYPE_GET(types, i);
        if (t == 4 || t > TEE_PARAM_TYPE_MEMREF_INOUT)
            utee_panic(TEE_ERROR_BAD_PARAMETERS, function);
        if (t != TEE_PARAM_TYPE_NONE && !params)
            utee_panic(TEE_ERROR_BAD_PARAMETERS, function);
    }
}

TEE_Result TEE_OpenTASession(const TEE_UUID *destination, uint32_t cancellationRequestTimeout, uint32_t paramTypes,
                             TEE_Param params[TEE_NUM_PARAMS], TEE_TASessionHandle *session, uint32_t *returnOrigin)
{
    REQUIRE(destination && session, "TEE_OpenTASession");
    check_params(paramTypes, params, "TEE_OpenTASession: bad parameter types");
    struct rproc_tee_call c = { .value = { cancellationRequestTimeout, paramTypes }, .in = { destination }, .in_len = { sizeof(*destination) },
                                .out = { params }, .out_len = { params ? sizeof(TEE_Param) * TEE_NUM_PARAMS : 0 } };
    TEE_Result r = utee_call(RPROC_TEE_FN_TA_OPEN, &c);
    *session = r == TEE_SUCCESS ? (TEE_TASessionHandle)(uintptr_t)c.value[2] : TEE_HANDLE_NULL;
    if (returnOrigin)
        *returnOrigin = (uint32_t)c.value[3];
    return r;
}

TEE_Result TEE_InvokeTACommand(TEE_TASessionHandle session, uint32_t cancellationRequestTimeout, uint32_t commandID, uint32_t paramTypes,
                               TEE_Param params[TEE_NUM_PARAMS], uint32_t *returnOrigin)
{
    check_params(paramTypes, params, "TEE_InvokeTACommand: bad parameter types");
    struct rproc_tee_call c = { .value = { h(session), cancellationRequestTimeout, commandID, paramTypes },
                                .out = { params }, .out_len = { params ? sizeof(TEE_Param) * TEE_NUM_PARAMS : 0 } };
    TEE_Result r = utee_call(RPROC_TEE_FN_TA_INVOKE, &c);
    if (returnOrigin)
        *returnOrigin = (uint32_t)c.value[4];
    return r;
}

void TEE_CloseTASession(TEE_TASessionHandle session)
{
    if (session == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .value = { h(session) } };
    utee_call(RPROC_TEE_FN_TA_CLOSE, &c);
}

TEE_Result tee_invoke_supp_plugin(const TEE_UUID *uuid, uint32_t cmd, uint32_t sub_cmd, void *buf, size_t len, size_t *outlen)
{
    if (!uuid || (len && !buf) || (buf && !len))
        return TEE_ERROR_BAD_PARAMETERS;
    struct rproc_tee_call c = { .value = { cmd, sub_cmd }, .in = { uuid }, .in_len = { sizeof(*uuid) }, .out = { buf }, .out_len = { len } };
    TEE_Result r = utee_call(RPROC_TEE_FN_SUPP_PLUGIN, &c);
    if (outlen)
        *outlen = c.out_len[0];
    return r;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

TEE_Result tee_uuid_from_str(TEE_UUID *uuid, const char *s)
{
    if (!uuid || !s || strlen(s) != 36)
        return TEE_ERROR_BAD_PARAMETERS;
    uint8_t b[16];
    int n = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return TEE_ERROR_BAD_PARAMETERS;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return TEE_ERROR_BAD_PARAMETERS;
        b[n++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    uuid->timeLow = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uuid->timeMid = (uint16_t)(b[4] << 8 | b[5]);
    uuid->timeHiAndVersion = (uint16_t)(b[6] << 8 | b[7]);
    memcpy(uuid->clockSeqAndNode, b + 8, 8);
    return TEE_SUCCESS;
}

void *tee_map_zi(size_t len, uint32_t flags)
{
    if (flags)
        return NULL;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

TEE_Result tee_unmap(void *buf, size_t len)
{
    return munmap(buf, len) == 0 ? TEE_SUCCESS : TEE_ERROR_BAD_PARAMETERS;
}

// MARK: Objects

void TEE_GetObjectInfo(TEE_ObjectHandle object, TEE_ObjectInfo *objectInfo)
{
    must(TEE_GetObjectInfo1(object, objectInfo), "TEE_GetObjectInfo");
}

static void info_from(const struct rproc_tee_call *c, TEE_ObjectInfo *info)
{
    info->objectType = (uint32_t)c->value[0];
    info->objectSize = (uint32_t)c->value[1];
    info->maxObjectSize = (uint32_t)c->value[2];
    info->objectUsage = (uint32_t)c->value[3];
    info->dataSize = (size_t)c->value[4];
    info->dataPosition = (size_t)c->value[5];
    info->handleFlags = (uint32_t)c->value[6];
}

TEE_Result TEE_GetObjectInfo1(TEE_ObjectHandle object, TEE_ObjectInfo *objectInfo)
{
    REQUIRE(objectInfo, "TEE_GetObjectInfo1");
    struct rproc_tee_call c = { .handle = { h(object) } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJECT_INFO, &c);
    if (r == TEE_SUCCESS)
        info_from(&c, objectInfo);
    return r;
}

void TEE_RestrictObjectUsage(TEE_ObjectHandle object, uint32_t objectUsage)
{
    must(TEE_RestrictObjectUsage1(object, objectUsage), "TEE_RestrictObjectUsage");
}

TEE_Result TEE_RestrictObjectUsage1(TEE_ObjectHandle object, uint32_t objectUsage)
{
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { objectUsage } };
    return utee_call(RPROC_TEE_FN_OBJECT_RESTRICT, &c);
}

TEE_Result TEE_GetObjectBufferAttribute(TEE_ObjectHandle object, uint32_t attributeID, void *buffer, size_t *size)
{
    REQUIRE(size && (buffer || !*size), "TEE_GetObjectBufferAttribute");
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { attributeID }, .out = { buffer }, .out_len = { *size } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJECT_BUFFER_ATTRIBUTE, &c);
    *size = c.out_len[0];
    return r;
}

TEE_Result TEE_GetObjectValueAttribute(TEE_ObjectHandle object, uint32_t attributeID, uint32_t *a, uint32_t *b)
{
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { attributeID } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJECT_VALUE_ATTRIBUTE, &c);
    if (r == TEE_SUCCESS) {
        if (a) *a = (uint32_t)c.value[1];
        if (b) *b = (uint32_t)c.value[2];
    }
    return r;
}

void TEE_CloseObject(TEE_ObjectHandle object)
{
    if (object == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .handle = { h(object) } };
    utee_call(RPROC_TEE_FN_OBJECT_CLOSE, &c);
}

TEE_Result TEE_AllocateTransientObject(TEE_ObjectType objectType, uint32_t maxObjectSize, TEE_ObjectHandle *object)
{
    REQUIRE(object, "TEE_AllocateTransientObject");
    struct rproc_tee_call c = { .value = { objectType, maxObjectSize } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJECT_ALLOCATE, &c);
    *object = r == TEE_SUCCESS ? (TEE_ObjectHandle)(uintptr_t)c.value[2] : TEE_HANDLE_NULL;
    return r;
}

void TEE_FreeTransientObject(TEE_ObjectHandle object)
{
    TEE_CloseObject(object);
}

void TEE_ResetTransientObject(TEE_ObjectHandle object)
{
    if (object == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .handle = { h(object) } };
    utee_call(RPROC_TEE_FN_OBJECT_RESET, &c);
}

TEE_Result TEE_PopulateTransientObject(TEE_ObjectHandle object, const TEE_Attribute *attrs, uint32_t attrCount)
{
    REQUIRE(attrs || !attrCount, "TEE_PopulateTransientObject");
    struct rproc_tee_call c = { .handle = { h(object) }, .attrs = attrs, .attr_count = attrCount };
    return utee_call(RPROC_TEE_FN_OBJECT_POPULATE, &c);
}

void TEE_InitRefAttribute(TEE_Attribute *attr, uint32_t attributeID, const void *buffer, size_t length)
{
    REQUIRE(attr, "TEE_InitRefAttribute");
    // GP: bit 29 set names a value attribute, which this cannot make.
    if (attributeID & TEE_ATTR_FLAG_VALUE)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_InitRefAttribute with a value attribute's id");
    attr->attributeID = attributeID;
    attr->content.ref.buffer = (void *)buffer;
    attr->content.ref.length = length;
}

void TEE_InitValueAttribute(TEE_Attribute *attr, uint32_t attributeID, uint32_t a, uint32_t b)
{
    REQUIRE(attr, "TEE_InitValueAttribute");
    if (!(attributeID & TEE_ATTR_FLAG_VALUE))
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_InitValueAttribute with a buffer attribute's id");
    attr->attributeID = attributeID;
    attr->content.value.a = a;
    attr->content.value.b = b;
}

void TEE_CopyObjectAttributes(TEE_ObjectHandle destObject, TEE_ObjectHandle srcObject)
{
    must(TEE_CopyObjectAttributes1(destObject, srcObject), "TEE_CopyObjectAttributes");
}

TEE_Result TEE_CopyObjectAttributes1(TEE_ObjectHandle destObject, TEE_ObjectHandle srcObject)
{
    struct rproc_tee_call c = { .handle = { h(destObject), h(srcObject) } };
    return utee_call(RPROC_TEE_FN_OBJECT_COPY_ATTRIBUTES, &c);
}

TEE_Result TEE_GenerateKey(TEE_ObjectHandle object, uint32_t keySize, const TEE_Attribute *params, uint32_t paramCount)
{
    REQUIRE(params || !paramCount, "TEE_GenerateKey");
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { keySize }, .attrs = params, .attr_count = paramCount };
    return utee_call(RPROC_TEE_FN_OBJECT_GENERATE, &c);
}

// MARK: Persistent objects

TEE_Result TEE_OpenPersistentObject(uint32_t storageID, const void *objectID, size_t objectIDLen, uint32_t flags, TEE_ObjectHandle *object)
{
    REQUIRE(object && (objectID || !objectIDLen), "TEE_OpenPersistentObject");
    utee_require_private(objectID, objectIDLen, "TEE_OpenPersistentObject");
    struct rproc_tee_call c = { .value = { storageID, flags }, .in = { objectID }, .in_len = { objectIDLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_PERSISTENT_OPEN, &c);
    *object = r == TEE_SUCCESS ? (TEE_ObjectHandle)(uintptr_t)c.value[2] : TEE_HANDLE_NULL;
    return r;
}

TEE_Result TEE_CreatePersistentObject(uint32_t storageID, const void *objectID, size_t objectIDLen, uint32_t flags,
                                      TEE_ObjectHandle attributes, const void *initialData, size_t initialDataLen, TEE_ObjectHandle *object)
{
    REQUIRE((objectID || !objectIDLen) && (initialData || !initialDataLen), "TEE_CreatePersistentObject");
    utee_require_private(objectID, objectIDLen, "TEE_CreatePersistentObject");
    struct rproc_tee_call c = { .handle = { h(attributes) }, .value = { storageID, flags, 0, object != NULL },
                                .in = { objectID, initialData }, .in_len = { objectIDLen, initialDataLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_PERSISTENT_CREATE, &c);
    if (object)
        *object = r == TEE_SUCCESS ? (TEE_ObjectHandle)(uintptr_t)c.value[2] : TEE_HANDLE_NULL;
    return r;
}

void TEE_CloseAndDeletePersistentObject(TEE_ObjectHandle object)
{
    must(TEE_CloseAndDeletePersistentObject1(object), "TEE_CloseAndDeletePersistentObject");
}

TEE_Result TEE_CloseAndDeletePersistentObject1(TEE_ObjectHandle object)
{
    if (object == TEE_HANDLE_NULL)
        return TEE_SUCCESS;
    struct rproc_tee_call c = { .handle = { h(object) } };
    return utee_call(RPROC_TEE_FN_PERSISTENT_DELETE, &c);
}

TEE_Result TEE_RenamePersistentObject(TEE_ObjectHandle object, const void *newObjectID, size_t newObjectIDLen)
{
    REQUIRE(newObjectID || !newObjectIDLen, "TEE_RenamePersistentObject");
    utee_require_private(newObjectID, newObjectIDLen, "TEE_RenamePersistentObject");
    struct rproc_tee_call c = { .handle = { h(object) }, .in = { newObjectID }, .in_len = { newObjectIDLen } };
    return utee_call(RPROC_TEE_FN_PERSISTENT_RENAME, &c);
}

TEE_Result TEE_AllocatePersistentObjectEnumerator(TEE_ObjectEnumHandle *objectEnumerator)
{
    REQUIRE(objectEnumerator, "TEE_AllocatePersistentObjectEnumerator");
    struct rproc_tee_call c = { 0 };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJENUM_ALLOCATE, &c);
    *objectEnumerator = r == TEE_SUCCESS ? (TEE_ObjectEnumHandle)(uintptr_t)c.value[0] : TEE_HANDLE_NULL;
    return r;
}

void TEE_FreePersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator)
{
    if (objectEnumerator == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .handle = { h(objectEnumerator) } };
    utee_call(RPROC_TEE_FN_OBJENUM_FREE, &c);
}

void TEE_ResetPersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator)
{
    if (objectEnumerator == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .handle = { h(objectEnumerator) } };
    utee_call(RPROC_TEE_FN_OBJENUM_RESET, &c);
}

TEE_Result TEE_StartPersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator, uint32_t storageID)
{
    struct rproc_tee_call c = { .handle = { h(objectEnumerator) }, .value = { storageID } };
    return utee_call(RPROC_TEE_FN_OBJENUM_START, &c);
}

TEE_Result TEE_GetNextPersistentObject(TEE_ObjectEnumHandle objectEnumerator, TEE_ObjectInfo *objectInfo, void *objectID, size_t *objectIDLen)
{
    REQUIRE(objectID && objectIDLen, "TEE_GetNextPersistentObject");
    struct rproc_tee_call c = { .handle = { h(objectEnumerator) }, .out = { objectID }, .out_len = { *objectIDLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OBJENUM_NEXT, &c);
    *objectIDLen = c.out_len[0];
    if (r == TEE_SUCCESS && objectInfo)
        info_from(&c, objectInfo);
    return r;
}

TEE_Result TEE_ReadObjectData(TEE_ObjectHandle object, void *buffer, size_t size, size_t *count)
{
    REQUIRE(count && (buffer || !size), "TEE_ReadObjectData");
    struct rproc_tee_call c = { .handle = { h(object) }, .out = { buffer }, .out_len = { size } };
    TEE_Result r = utee_call(RPROC_TEE_FN_DATA_READ, &c);
    *count = r == TEE_SUCCESS ? c.out_len[0] : 0;
    return r;
}

TEE_Result TEE_WriteObjectData(TEE_ObjectHandle object, const void *buffer, size_t size)
{
    REQUIRE(buffer || !size, "TEE_WriteObjectData");
    struct rproc_tee_call c = { .handle = { h(object) }, .in = { buffer }, .in_len = { size } };
    return utee_call(RPROC_TEE_FN_DATA_WRITE, &c);
}

TEE_Result TEE_TruncateObjectData(TEE_ObjectHandle object, size_t size)
{
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { size } };
    return utee_call(RPROC_TEE_FN_DATA_TRUNCATE, &c);
}

TEE_Result TEE_SeekObjectData(TEE_ObjectHandle object, intmax_t offset, TEE_Whence whence)
{
    struct rproc_tee_call c = { .handle = { h(object) }, .value = { (uint64_t)offset, whence } };
    return utee_call(RPROC_TEE_FN_DATA_SEEK, &c);
}

// MARK: Operations

TEE_Result TEE_AllocateOperation(TEE_OperationHandle *operation, uint32_t algorithm, uint32_t mode, uint32_t maxKeySize)
{
    REQUIRE(operation, "TEE_AllocateOperation");
    struct rproc_tee_call c = { .value = { algorithm, mode, maxKeySize } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OPERATION_ALLOCATE, &c);
    *operation = r == TEE_SUCCESS ? (TEE_OperationHandle)(uintptr_t)c.value[3] : TEE_HANDLE_NULL;
    return r;
}

void TEE_FreeOperation(TEE_OperationHandle operation)
{
    if (operation == TEE_HANDLE_NULL)
        return;
    struct rproc_tee_call c = { .handle = { h(operation) } };
    utee_call(RPROC_TEE_FN_OPERATION_FREE, &c);
}

void TEE_GetOperationInfo(TEE_OperationHandle operation, TEE_OperationInfo *operationInfo)
{
    REQUIRE(operationInfo, "TEE_GetOperationInfo");
    struct rproc_tee_call c = { .handle = { h(operation) } };
    must(utee_call(RPROC_TEE_FN_OPERATION_INFO, &c), "TEE_GetOperationInfo");
    uint32_t *w = (uint32_t *)operationInfo;
    for (int i = 0; i < 8; i++)
        w[i] = (uint32_t)c.value[i];
}

TEE_Result TEE_GetOperationInfoMultiple(TEE_OperationHandle operation, TEE_OperationInfoMultiple *operationInfoMultiple, size_t *operationSize)
{
    REQUIRE(operationInfoMultiple && operationSize, "TEE_GetOperationInfoMultiple");
    struct rproc_tee_call c = { .handle = { h(operation) }, .out = { operationInfoMultiple }, .out_len = { *operationSize } };
    TEE_Result r = utee_call(RPROC_TEE_FN_OPERATION_INFO_MULTIPLE, &c);
    *operationSize = c.out_len[0];
    return r;
}

void TEE_ResetOperation(TEE_OperationHandle operation)
{
    struct rproc_tee_call c = { .handle = { h(operation) } };
    must(utee_call(RPROC_TEE_FN_OPERATION_RESET, &c), "TEE_ResetOperation");
}

TEE_Result TEE_SetOperationKey(TEE_OperationHandle operation, TEE_ObjectHandle key)
{
    struct rproc_tee_call c = { .handle = { h(operation), h(key) } };
    return utee_call(RPROC_TEE_FN_OPERATION_SET_KEY, &c);
}

TEE_Result TEE_SetOperationKey2(TEE_OperationHandle operation, TEE_ObjectHandle key1, TEE_ObjectHandle key2)
{
    struct rproc_tee_call c = { .handle = { h(operation), h(key1), h(key2) } };
    return utee_call(RPROC_TEE_FN_OPERATION_SET_KEY2, &c);
}

void TEE_CopyOperation(TEE_OperationHandle dstOperation, TEE_OperationHandle srcOperation)
{
    struct rproc_tee_call c = { .handle = { h(dstOperation), h(srcOperation) } };
    must(utee_call(RPROC_TEE_FN_OPERATION_COPY, &c), "TEE_CopyOperation");
}

TEE_Result TEE_IsAlgorithmSupported(uint32_t algId, uint32_t element)
{
    struct rproc_tee_call c = { .value = { algId, element } };
    return utee_call(RPROC_TEE_FN_ALGORITHM_SUPPORTED, &c);
}

/// One operation step with an input and, where there is one, an output buffer.
static TEE_Result step(uint32_t fn, TEE_OperationHandle op, const void *in, size_t in_len, void *out, size_t *out_len, const char *function)
{
    REQUIRE((in || !in_len) && (!out_len || out || !*out_len), function);
    struct rproc_tee_call c = { .handle = { h(op) }, .in = { in }, .in_len = { in_len }, .out = { out }, .out_len = { out_len ? *out_len : 0 } };
    TEE_Result r = utee_call(fn, &c);
    if (out_len)
        *out_len = c.out_len[0];
    return r;
}

void TEE_DigestUpdate(TEE_OperationHandle operation, const void *chunk, size_t chunkSize)
{
    must(step(RPROC_TEE_FN_DIGEST_UPDATE, operation, chunk, chunkSize, NULL, NULL, "TEE_DigestUpdate"), "TEE_DigestUpdate");
}

TEE_Result TEE_DigestDoFinal(TEE_OperationHandle operation, const void *chunk, size_t chunkLen, void *hash, size_t *hashLen)
{
    REQUIRE(hashLen, "TEE_DigestDoFinal");
    return step(RPROC_TEE_FN_DIGEST_FINAL, operation, chunk, chunkLen, hash, hashLen, "TEE_DigestDoFinal");
}

TEE_Result TEE_DigestExtract(TEE_OperationHandle operation, void *hash, size_t *hashLen)
{
    REQUIRE(hashLen, "TEE_DigestExtract");
    return step(RPROC_TEE_FN_DIGEST_EXTRACT, operation, NULL, 0, hash, hashLen, "TEE_DigestExtract");
}

void TEE_CipherInit(TEE_OperationHandle operation, const void *IV, size_t IVLen)
{
    must(step(RPROC_TEE_FN_CIPHER_INIT, operation, IV, IVLen, NULL, NULL, "TEE_CipherInit"), "TEE_CipherInit");
}

TEE_Result TEE_CipherUpdate(TEE_OperationHandle operation, const void *srcData, size_t srcLen, void *destData, size_t *destLen)
{
    REQUIRE(destLen, "TEE_CipherUpdate");
    return step(RPROC_TEE_FN_CIPHER_UPDATE, operation, srcData, srcLen, destData, destLen, "TEE_CipherUpdate");
}

TEE_Result TEE_CipherDoFinal(TEE_OperationHandle operation, const void *srcData, size_t srcLen, void *destData, size_t *destLen)
{
    REQUIRE(destLen || !srcLen, "TEE_CipherDoFinal");
    size_t none = 0;
    return step(RPROC_TEE_FN_CIPHER_FINAL, operation, srcData, srcLen, destData, destLen ? destLen : &none, "TEE_CipherDoFinal");
}

void TEE_MACInit(TEE_OperationHandle operation, const void *IV, size_t IVLen)
{
    must(step(RPROC_TEE_FN_MAC_INIT, operation, IV, IVLen, NULL, NULL, "TEE_MACInit"), "TEE_MACInit");
}

void TEE_MACUpdate(TEE_OperationHandle operation, const void *chunk, size_t chunkSize)
{
    must(step(RPROC_TEE_FN_MAC_UPDATE, operation, chunk, chunkSize, NULL, NULL, "TEE_MACUpdate"), "TEE_MACUpdate");
}

TEE_Result TEE_MACComputeFinal(TEE_OperationHandle operation, const void *message, size_t messageLen, void *mac, size_t *macLen)
{
    REQUIRE(macLen, "TEE_MACComputeFinal");
    return step(RPROC_TEE_FN_MAC_COMPUTE, operation, message, messageLen, mac, macLen, "TEE_MACComputeFinal");
}

TEE_Result TEE_MACCompareFinal(TEE_OperationHandle operation, const void *message, size_t messageLen, const void *mac, size_t macLen)
{
    REQUIRE((message || !messageLen) && (mac || !macLen), "TEE_MACCompareFinal");
    struct rproc_tee_call c = { .handle = { h(operation) }, .in = { message, mac }, .in_len = { messageLen, macLen } };
    return utee_call(RPROC_TEE_FN_MAC_COMPARE, &c);
}

TEE_Result TEE_AEInit(TEE_OperationHandle operation, const void *nonce, size_t nonceLen, uint32_t tagLen, size_t AADLen, size_t payloadLen)
{
    REQUIRE(nonce || !nonceLen, "TEE_AEInit");
    struct rproc_tee_call c = { .handle = { h(operation) }, .value = { tagLen, AADLen, payloadLen }, .in = { nonce }, .in_len = { nonceLen } };
    return utee_call(RPROC_TEE_FN_AE_INIT, &c);
}

void TEE_AEUpdateAAD(TEE_OperationHandle operation, const void *AADdata, size_t AADdataLen)
{
    must(step(RPROC_TEE_FN_AE_AAD, operation, AADdata, AADdataLen, NULL, NULL, "TEE_AEUpdateAAD"), "TEE_AEUpdateAAD");
}

TEE_Result TEE_AEUpdate(TEE_OperationHandle operation, const void *srcData, size_t srcLen, void *destData, size_t *destLen)
{
    REQUIRE(destLen, "TEE_AEUpdate");
    return step(RPROC_TEE_FN_AE_UPDATE, operation, srcData, srcLen, destData, destLen, "TEE_AEUpdate");
}

TEE_Result TEE_AEEncryptFinal(TEE_OperationHandle operation, const void *srcData, size_t srcLen, void *destData, size_t *destLen,
                              void *tag, size_t *tagLen)
{
    REQUIRE((srcData || !srcLen) && destLen && tagLen && (destData || !*destLen) && (tag || !*tagLen), "TEE_AEEncryptFinal");
    struct rproc_tee_call c = { .handle = { h(operation) }, .in = { srcData }, .in_len = { srcLen }, .out = { destData, tag },
                                .out_len = { *destLen, *tagLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_AE_ENCRYPT_FINAL, &c);
    *destLen = c.out_len[0];
    *tagLen = c.out_len[1];
    return r;
}

TEE_Result TEE_AEDecryptFinal(TEE_OperationHandle operation, const void *srcData, size_t srcLen, void *destData, size_t *destLen,
                              void *tag, size_t tagLen)
{
    REQUIRE((srcData || !srcLen) && destLen && (destData || !*destLen) && (tag || !tagLen), "TEE_AEDecryptFinal");
    struct rproc_tee_call c = { .handle = { h(operation) }, .in = { srcData, tag }, .in_len = { srcLen, tagLen }, .out = { destData },
                                .out_len = { *destLen } };
    TEE_Result r = utee_call(RPROC_TEE_FN_AE_DECRYPT_FINAL, &c);
    *destLen = c.out_len[0];
    return r;
}

static TEE_Result asymmetric(uint32_t fn, TEE_OperationHandle op, const TEE_Attribute *params, uint32_t count, const void *in, size_t in_len,
                             void *out, size_t *out_len, const char *function)
{
    REQUIRE((params || !count) && (in || !in_len) && out_len && (out || !*out_len), function);
    struct rproc_tee_call c = { .handle = { h(op) }, .attrs = params, .attr_count = count, .in = { in }, .in_len = { in_len },
                                .out = { out }, .out_len = { *out_len } };
    TEE_Result r = utee_call(fn, &c);
    *out_len = c.out_len[0];
    return r;
}

TEE_Result TEE_AsymmetricEncrypt(TEE_OperationHandle operation, const TEE_Attribute *params, uint32_t paramCount, const void *srcData,
                                 size_t srcLen, void *destData, size_t *destLen)
{
    return asymmetric(RPROC_TEE_FN_ASYMMETRIC_ENCRYPT, operation, params, paramCount, srcData, srcLen, destData, destLen, "TEE_AsymmetricEncrypt");
}

TEE_Result TEE_AsymmetricDecrypt(TEE_OperationHandle operation, const TEE_Attribute *params, uint32_t paramCount, const void *srcData,
                                 size_t srcLen, void *destData, size_t *destLen)
{
    return asymmetric(RPROC_TEE_FN_ASYMMETRIC_DECRYPT, operation, params, paramCount, srcData, srcLen, destData, destLen, "TEE_AsymmetricDecrypt");
}

TEE_Result TEE_AsymmetricSignDigest(TEE_OperationHandle operation, const TEE_Attribute *params, uint32_t paramCount, const void *digest,
                                    size_t digestLen, void *signature, size_t *signatureLen)
{
    return asymmetric(RPROC_TEE_FN_SIGN_DIGEST, operation, params, paramCount, digest, digestLen, signature, signatureLen, "TEE_AsymmetricSignDigest");
}

TEE_Result TEE_AsymmetricVerifyDigest(TEE_OperationHandle operation, const TEE_Attribute *params, uint32_t paramCount, const void *digest,
                                      size_t digestLen, const void *signature, size_t signatureLen)
{
    REQUIRE((params || !paramCount) && (digest || !digestLen) && (signature || !signatureLen), "TEE_AsymmetricVerifyDigest");
    struct rproc_tee_call c = { .handle = { h(operation) }, .attrs = params, .attr_count = paramCount, .in = { digest, signature },
                                .in_len = { digestLen, signatureLen } };
    return utee_call(RPROC_TEE_FN_VERIFY_DIGEST, &c);
}

void TEE_DeriveKey(TEE_OperationHandle operation, const TEE_Attribute *params, uint32_t paramCount, TEE_ObjectHandle derivedKey)
{
    REQUIRE(params || !paramCount, "TEE_DeriveKey");
    struct rproc_tee_call c = { .handle = { h(operation), h(derivedKey) }, .attrs = params, .attr_count = paramCount };
    must(utee_call(RPROC_TEE_FN_DERIVE_KEY, &c), "TEE_DeriveKey");
}
