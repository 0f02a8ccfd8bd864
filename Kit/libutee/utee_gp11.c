// libutee.so: the GP 1.1 variants (__GP11_*) that a TA built with CFG_TA_OPTEE_CORE_API_COMPAT_1_1
// calls: 32-bit lengths, the 1.1 TEE_ObjectInfo and TEE_Attribute, converted here to the GP 1.3
// functions. A length the 1.3 function reports that does not fit 32 bits cannot reach a 1.1 TA:
// it is a panic (no object or buffer here is that large).

#include "utee_internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t narrow(size_t n, const char *function)
{
    if (n > UINT32_MAX)
        utee_panic(TEE_ERROR_OVERFLOW, function);
    return (uint32_t)n;
}

/// A length in and out, through a size_t.
#define VIA_SIZE(len11, call, function) \
    ({ size_t _l = (len11) ? *(len11) : 0; TEE_Result _r = call; if (len11) *(len11) = narrow(_l, function); _r; })

/// A GP 1.1 attribute array as GP 1.3's (on the stack up to 16, else allocated).
struct attrs {
    TEE_Attribute local[16];
    TEE_Attribute *items;
};

static const TEE_Attribute *widen(struct attrs *a, const __GP11_TEE_Attribute *in, uint32_t count, const char *function)
{
    if (!count)
        return NULL;
    if (!in)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, function);
    a->items = count <= 16 ? a->local : calloc(count, sizeof(TEE_Attribute));
    if (!a->items)
        utee_panic(TEE_ERROR_OUT_OF_MEMORY, function);
    for (uint32_t i = 0; i < count; i++) {
        a->items[i].attributeID = in[i].attributeID;
        if (in[i].attributeID & TEE_ATTR_FLAG_VALUE) {
            a->items[i].content.value.a = in[i].content.value.a;
            a->items[i].content.value.b = in[i].content.value.b;
        } else {
            a->items[i].content.ref.buffer = in[i].content.ref.buffer;
            a->items[i].content.ref.length = in[i].content.ref.length;
        }
    }
    return a->items;
}

static void done(struct attrs *a)
{
    if (a->items && a->items != a->local)
        free(a->items);
}

static void info11(const TEE_ObjectInfo *in, __GP11_TEE_ObjectInfo *out)
{
    out->objectType = in->objectType;
    out->objectSize = in->objectSize;
    out->maxObjectSize = in->maxObjectSize;
    out->objectUsage = in->objectUsage;
    out->dataSize = narrow(in->dataSize, "a 1.1 TEE_ObjectInfo");
    out->dataPosition = narrow(in->dataPosition, "a 1.1 TEE_ObjectInfo");
    out->handleFlags = in->handleFlags;
}

void rproc_tee_params_from_gp11(uint32_t types, const __GP11_TEE_Param *in, TEE_Param *out)
{
    for (int i = 0; i < TEE_NUM_PARAMS; i++) {
        uint32_t t = TEE_PARAM_TYPE_GET(types, i);
        memset(&out[i], 0, sizeof(out[i]));
        if (t >= TEE_PARAM_TYPE_MEMREF_INPUT) {
            out[i].memref.buffer = in[i].memref.buffer;
            out[i].memref.size = in[i].memref.size;
        } else if (t != TEE_PARAM_TYPE_NONE) {
            out[i].value.a = in[i].value.a;
            out[i].value.b = in[i].value.b;
        }
    }
}

void rproc_tee_params_to_gp11(uint32_t types, const TEE_Param *in, __GP11_TEE_Param *out)
{
    for (int i = 0; i < TEE_NUM_PARAMS; i++) {
        uint32_t t = TEE_PARAM_TYPE_GET(types, i);
        if (t >= TEE_PARAM_TYPE_MEMREF_INPUT) {
            out[i].memref.buffer = in[i].memref.buffer;
            out[i].memref.size = narrow(in[i].memref.size, "a 1.1 memory reference");
        } else if (t != TEE_PARAM_TYPE_NONE) {
            out[i].value.a = in[i].value.a;
            out[i].value.b = in[i].value.b;
        }
    }
}

TEE_Result __GP11_TEE_GetPropertyAsString(TEE_PropSetHandle set, const char *name, char *buffer, uint32_t *len)
{
    return VIA_SIZE(len, TEE_GetPropertyAsString(set, name, buffer, len ? &_l : NULL), "TEE_GetPropertyAsString");
}

TEE_Result __GP11_TEE_GetPropertyAsBinaryBlock(TEE_PropSetHandle set, const char *name, void *buffer, uint32_t *len)
{
    return VIA_SIZE(len, TEE_GetPropertyAsBinaryBlock(set, name, buffer, len ? &_l : NULL), "TEE_GetPropertyAsBinaryBlock");
}

TEE_Result __GP11_TEE_GetPropertyName(TEE_PropSetHandle enumerator, void *buffer, uint32_t *len)
{
    return VIA_SIZE(len, TEE_GetPropertyName(enumerator, buffer, len ? &_l : NULL), "TEE_GetPropertyName");
}

TEE_Result __GP11_TEE_OpenTASession(const TEE_UUID *destination, uint32_t timeout, uint32_t types, __GP11_TEE_Param params[TEE_NUM_PARAMS],
                                    TEE_TASessionHandle *session, uint32_t *origin)
{
    TEE_Param p[TEE_NUM_PARAMS];
    if (params)
        rproc_tee_params_from_gp11(types, params, p);
    TEE_Result r = TEE_OpenTASession(destination, timeout, types, params ? p : NULL, session, origin);
    if (params)
        rproc_tee_params_to_gp11(types, p, params);
    return r;
}

TEE_Result __GP11_TEE_InvokeTACommand(TEE_TASessionHandle session, uint32_t timeout, uint32_t command, uint32_t types,
                                      __GP11_TEE_Param params[TEE_NUM_PARAMS], uint32_t *origin)
{
    TEE_Param p[TEE_NUM_PARAMS];
    if (params)
        rproc_tee_params_from_gp11(types, params, p);
    TEE_Result r = TEE_InvokeTACommand(session, timeout, command, types, params ? p : NULL, origin);
    if (params)
        rproc_tee_params_to_gp11(types, p, params);
    return r;
}

TEE_Result __GP11_TEE_CheckMemoryAccessRights(uint32_t flags, void *buffer, uint32_t size) { return TEE_CheckMemoryAccessRights(flags, buffer, size); }
void *__GP11_TEE_Malloc(uint32_t size, uint32_t hint) { return TEE_Malloc(size, hint); }
void *__GP11_TEE_Realloc(void *buffer, uint32_t newSize) { return TEE_Realloc(buffer, newSize); }
void __GP11_TEE_MemMove(void *dest, const void *src, uint32_t size) { TEE_MemMove(dest, src, size); }
int32_t __GP11_TEE_MemCompare(const void *a, const void *b, uint32_t size) { return TEE_MemCompare(a, b, size); }
void __GP11_TEE_MemFill(void *buff, uint32_t x, uint32_t size) { TEE_MemFill(buff, x, size); }

void __GP11_TEE_GetObjectInfo(TEE_ObjectHandle object, __GP11_TEE_ObjectInfo *objectInfo)
{
    if (!objectInfo)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GetObjectInfo");
    TEE_ObjectInfo info;
    TEE_GetObjectInfo(object, &info);
    info11(&info, objectInfo);
}

TEE_Result __GP11_TEE_GetObjectInfo1(TEE_ObjectHandle object, __GP11_TEE_ObjectInfo *objectInfo)
{
    if (!objectInfo)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_GetObjectInfo1");
    TEE_ObjectInfo info;
    TEE_Result r = TEE_GetObjectInfo1(object, &info);
    if (r == TEE_SUCCESS)
        info11(&info, objectInfo);
    return r;
}

TEE_Result __GP11_TEE_GetObjectBufferAttribute(TEE_ObjectHandle object, uint32_t id, void *buffer, uint32_t *size)
{
    return VIA_SIZE(size, TEE_GetObjectBufferAttribute(object, id, buffer, size ? &_l : NULL), "TEE_GetObjectBufferAttribute");
}

TEE_Result __GP11_TEE_AllocateTransientObject(TEE_ObjectType type, uint32_t maxKeySize, TEE_ObjectHandle *object)
{
    return TEE_AllocateTransientObject(type, maxKeySize, object);
}

TEE_Result __GP11_TEE_PopulateTransientObject(TEE_ObjectHandle object, const __GP11_TEE_Attribute *attrs, uint32_t count)
{
    struct attrs a = { .items = NULL };
    TEE_Result r = TEE_PopulateTransientObject(object, widen(&a, attrs, count, "TEE_PopulateTransientObject"), count);
    done(&a);
    return r;
}

void __GP11_TEE_InitRefAttribute(__GP11_TEE_Attribute *attr, uint32_t id, const void *buffer, uint32_t length)
{
    TEE_Attribute wide;
    TEE_InitRefAttribute(&wide, id, buffer, length);
    if (!attr)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_InitRefAttribute");
    attr->attributeID = id;
    attr->content.ref.buffer = (void *)buffer;
    attr->content.ref.length = length;
}

void __GP11_TEE_InitValueAttribute(__GP11_TEE_Attribute *attr, uint32_t id, uint32_t a, uint32_t b)
{
    TEE_Attribute wide;
    TEE_InitValueAttribute(&wide, id, a, b);
    if (!attr)
        utee_panic(TEE_ERROR_BAD_PARAMETERS, "TEE_InitValueAttribute");
    attr->attributeID = id;
    attr->content.value.a = a;
    attr->content.value.b = b;
}

TEE_Result __GP11_TEE_GenerateKey(TEE_ObjectHandle object, uint32_t keySize, const __GP11_TEE_Attribute *params, uint32_t count)
{
    struct attrs a = { .items = NULL };
    TEE_Result r = TEE_GenerateKey(object, keySize, widen(&a, params, count, "TEE_GenerateKey"), count);
    done(&a);
    return r;
}

TEE_Result __GP11_TEE_OpenPersistentObject(uint32_t storageID, const void *id, uint32_t idLen, uint32_t flags, TEE_ObjectHandle *object)
{
    return TEE_OpenPersistentObject(storageID, id, idLen, flags, object);
}

TEE_Result __GP11_TEE_CreatePersistentObject(uint32_t storageID, const void *id, uint32_t idLen, uint32_t flags, TEE_ObjectHandle attributes,
                                             const void *data, uint32_t dataLen, TEE_ObjectHandle *object)
{
    return TEE_CreatePersistentObject(storageID, id, idLen, flags, attributes, data, dataLen, object);
}

TEE_Result __GP11_TEE_RenamePersistentObject(TEE_ObjectHandle object, const void *id, uint32_t idLen)
{
    return TEE_RenamePersistentObject(object, id, idLen);
}

TEE_Result __GP11_TEE_GetNextPersistentObject(TEE_ObjectEnumHandle enumerator, __GP11_TEE_ObjectInfo *objectInfo, void *id, uint32_t *idLen)
{
    TEE_ObjectInfo info;
    TEE_Result r = VIA_SIZE(idLen, TEE_GetNextPersistentObject(enumerator, objectInfo ? &info : NULL, id, idLen ? &_l : NULL),
                            "TEE_GetNextPersistentObject");
    if (r == TEE_SUCCESS && objectInfo)
        info11(&info, objectInfo);
    return r;
}

TEE_Result __GP11_TEE_ReadObjectData(TEE_ObjectHandle object, void *buffer, uint32_t size, uint32_t *count)
{
    size_t n = 0;
    TEE_Result r = TEE_ReadObjectData(object, buffer, size, count ? &n : NULL);
    *count = (uint32_t)n;
    return r;
}

TEE_Result __GP11_TEE_WriteObjectData(TEE_ObjectHandle object, const void *buffer, uint32_t size) { return TEE_WriteObjectData(object, buffer, size); }
TEE_Result __GP11_TEE_TruncateObjectData(TEE_ObjectHandle object, uint32_t size) { return TEE_TruncateObjectData(object, size); }
TEE_Result __GP11_TEE_SeekObjectData(TEE_ObjectHandle object, int32_t offset, TEE_Whence whence) { return TEE_SeekObjectData(object, offset, whence); }
void __GP11_TEE_FreeOperation(TEE_OperationHandle operation) { TEE_FreeOperation(operation); }

TEE_Result __GP11_TEE_GetOperationInfoMultiple(TEE_OperationHandle operation, TEE_OperationInfoMultiple *info, uint32_t *size)
{
    return VIA_SIZE(size, TEE_GetOperationInfoMultiple(operation, info, size ? &_l : NULL), "TEE_GetOperationInfoMultiple");
}

TEE_Result __GP11_TEE_SetOperationKey(TEE_OperationHandle operation, TEE_ObjectHandle key) { return TEE_SetOperationKey(operation, key); }
TEE_Result __GP11_TEE_SetOperationKey2(TEE_OperationHandle operation, TEE_ObjectHandle key1, TEE_ObjectHandle key2)
{
    return TEE_SetOperationKey2(operation, key1, key2);
}
void __GP11_TEE_DigestUpdate(TEE_OperationHandle operation, const void *chunk, uint32_t size) { TEE_DigestUpdate(operation, chunk, size); }

TEE_Result __GP11_TEE_DigestDoFinal(TEE_OperationHandle operation, const void *chunk, uint32_t chunkLen, void *hash, uint32_t *hashLen)
{
    return VIA_SIZE(hashLen, TEE_DigestDoFinal(operation, chunk, chunkLen, hash, hashLen ? &_l : NULL), "TEE_DigestDoFinal");
}

void __GP11_TEE_CipherInit(TEE_OperationHandle operation, const void *IV, uint32_t IVLen) { TEE_CipherInit(operation, IV, IVLen); }

TEE_Result __GP11_TEE_CipherUpdate(TEE_OperationHandle operation, const void *src, uint32_t srcLen, void *dest, uint32_t *destLen)
{
    return VIA_SIZE(destLen, TEE_CipherUpdate(operation, src, srcLen, dest, destLen ? &_l : NULL), "TEE_CipherUpdate");
}

TEE_Result __GP11_TEE_CipherDoFinal(TEE_OperationHandle operation, const void *src, uint32_t srcLen, void *dest, uint32_t *destLen)
{
    return VIA_SIZE(destLen, TEE_CipherDoFinal(operation, src, srcLen, dest, destLen ? &_l : NULL), "TEE_CipherDoFinal");
}

void __GP11_TEE_MACInit(TEE_OperationHandle operation, const void *IV, uint32_t IVLen) { TEE_MACInit(operation, IV, IVLen); }
void __GP11_TEE_MACUpdate(TEE_OperationHandle operation, const void *chunk, uint32_t size) { TEE_MACUpdate(operation, chunk, size); }

TEE_Result __GP11_TEE_MACComputeFinal(TEE_OperationHandle operation, const void *message, uint32_t messageLen, void *mac, uint32_t *macLen)
{
    return VIA_SIZE(macLen, TEE_MACComputeFinal(operation, message, messageLen, mac, macLen ? &_l : NULL), "TEE_MACComputeFinal");
}

TEE_Result __GP11_TEE_MACCompareFinal(TEE_OperationHandle operation, const void *message, uint32_t messageLen, const void *mac, uint32_t macLen)
{
    return TEE_MACCompareFinal(operation, message, messageLen, mac, macLen);
}

TEE_Result __GP11_TEE_AEInit(TEE_OperationHandle operation, const void *nonce, uint32_t nonceLen, uint32_t tagLen, uint32_t AADLen, uint32_t payloadLen)
{
    return TEE_AEInit(operation, nonce, nonceLen, tagLen, AADLen, payloadLen);
}

void __GP11_TEE_AEUpdateAAD(TEE_OperationHandle operation, const void *data, uint32_t len) { TEE_AEUpdateAAD(operation, data, len); }

TEE_Result __GP11_TEE_AEUpdate(TEE_OperationHandle operation, const void *src, uint32_t srcLen, void *dest, uint32_t *destLen)
{
    return VIA_SIZE(destLen, TEE_AEUpdate(operation, src, srcLen, dest, destLen ? &_l : NULL), "TEE_AEUpdate");
}

TEE_Result __GP11_TEE_AEEncryptFinal(TEE_OperationHandle operation, const void *src, uint32_t srcLen, void *dest, uint32_t *destLen, void *tag,
                                     uint32_t *tagLen)
{
    size_t d = destLen ? *destLen : 0, t = tagLen ? *tagLen : 0;
    TEE_Result r = TEE_AEEncryptFinal(operation, src, srcLen, dest, destLen ? &d : NULL, tag, tagLen ? &t : NULL);
    *destLen = narrow(d, "TEE_AEEncryptFinal");
    *tagLen = narrow(t, "TEE_AEEncryptFinal");
    return r;
}

TEE_Result __GP11_TEE_AEDecryptFinal(TEE_OperationHandle operation, const void *src, uint32_t srcLen, void *dest, uint32_t *destLen, void *tag,
                                     uint32_t tagLen)
{
    return VIA_SIZE(destLen, TEE_AEDecryptFinal(operation, src, srcLen, dest, destLen ? &_l : NULL, tag, tagLen), "TEE_AEDecryptFinal");
}

#define ASYMMETRIC11(name, outtype) \
    TEE_Result __GP11_##name(TEE_OperationHandle operation, const __GP11_TEE_Attribute *params, uint32_t count, const void *src, uint32_t srcLen, \
                             outtype *dest, uint32_t *destLen) \
    { \
        struct attrs a = { .items = NULL }; \
        const TEE_Attribute *wide = widen(&a, params, count, #name); \
        TEE_Result r = VIA_SIZE(destLen, name(operation, wide, count, src, srcLen, dest, destLen ? &_l : NULL), #name); \
        done(&a); \
        return r; \
    }
ASYMMETRIC11(TEE_AsymmetricEncrypt, void)
ASYMMETRIC11(TEE_AsymmetricDecrypt, void)
ASYMMETRIC11(TEE_AsymmetricSignDigest, void)

TEE_Result __GP11_TEE_AsymmetricVerifyDigest(TEE_OperationHandle operation, const __GP11_TEE_Attribute *params, uint32_t count, const void *digest,
                                             uint32_t digestLen, const void *signature, uint32_t signatureLen)
{
    struct attrs a = { .items = NULL };
    TEE_Result r = TEE_AsymmetricVerifyDigest(operation, widen(&a, params, count, "TEE_AsymmetricVerifyDigest"), count, digest, digestLen, signature,
                                              signatureLen);
    done(&a);
    return r;
}

void __GP11_TEE_DeriveKey(TEE_OperationHandle operation, const __GP11_TEE_Attribute *params, uint32_t count, TEE_ObjectHandle derivedKey)
{
    struct attrs a = { .items = NULL };
    TEE_DeriveKey(operation, widen(&a, params, count, "TEE_DeriveKey"), count, derivedKey);
    done(&a);
}

void __GP11_TEE_GenerateRandom(void *buffer, uint32_t len) { TEE_GenerateRandom(buffer, len); }
