/* rproc-tee TA dev kit: the GP TEE Internal Core API types (GP 1.3.1, as OP-TEE's ABI lays them
 * out on LP64), and the GP 1.1 layouts OP-TEE keeps for CFG_TA_OPTEE_CORE_API_COMPAT_1_1.
 * Our own header; names and layouts are the specification's interface. */
#ifndef RPROC_TEE_TEE_API_TYPES_H
#define RPROC_TEE_TEE_API_TYPES_H

#include <compiler.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <tee_api_defines.h>

typedef uint32_t TEE_Result;

typedef struct {
	uint32_t timeLow;
	uint16_t timeMid;
	uint16_t timeHiAndVersion;
	uint8_t clockSeqAndNode[8];
} TEE_UUID;

typedef struct {
	uint32_t login;
	TEE_UUID uuid;
} TEE_Identity;

/* A parameter of an entry point or of a call to another TA: a value pair or a memory reference. */
typedef union {
	struct { void *buffer; size_t size; } memref;
	struct { uint32_t a; uint32_t b; } value;
} TEE_Param;

typedef union {
	struct { void *buffer; uint32_t size; } memref;
	struct { uint32_t a; uint32_t b; } value;
} __GP11_TEE_Param;

/* Handles are opaque: the runtime hands out ids it checks on every use (a bad one panics). */
typedef struct __TEE_TASessionHandle *TEE_TASessionHandle;
typedef struct __TEE_PropSetHandle *TEE_PropSetHandle;
typedef struct __TEE_ObjectHandle *TEE_ObjectHandle;
typedef struct __TEE_ObjectEnumHandle *TEE_ObjectEnumHandle;
typedef struct __TEE_OperationHandle *TEE_OperationHandle;

typedef uint32_t TEE_ObjectType;

typedef struct {
	uint32_t objectType;
	uint32_t objectSize;
	uint32_t maxObjectSize;
	uint32_t objectUsage;
	size_t dataSize;
	size_t dataPosition;
	uint32_t handleFlags;
} TEE_ObjectInfo;

typedef struct {
	uint32_t objectType;
	__extension__ union { uint32_t keySize; uint32_t objectSize; };
	__extension__ union { uint32_t maxKeySize; uint32_t maxObjectSize; };
	uint32_t objectUsage;
	uint32_t dataSize;
	uint32_t dataPosition;
	uint32_t handleFlags;
} __GP11_TEE_ObjectInfo;

typedef uint32_t TEE_Whence;

typedef struct {
	uint32_t attributeID;
	union {
		struct { void *buffer; size_t length; } ref;
		struct { uint32_t a, b; } value;
	} content;
} TEE_Attribute;

typedef struct {
	uint32_t attributeID;
	union {
		struct { void *buffer; uint32_t length; } ref;
		struct { uint32_t a, b; } value;
	} content;
} __GP11_TEE_Attribute;

typedef uint32_t TEE_OperationMode;

typedef struct {
	uint32_t algorithm;
	uint32_t operationClass;
	uint32_t mode;
	uint32_t digestLength;
	uint32_t maxKeySize;
	uint32_t keySize;
	uint32_t requiredKeyUsage;
	uint32_t handleState;
} TEE_OperationInfo;

typedef struct {
	uint32_t keySize;
	uint32_t requiredKeyUsage;
} TEE_OperationInfoKey;

typedef struct {
	uint32_t algorithm;
	uint32_t operationClass;
	uint32_t mode;
	uint32_t digestLength;
	uint32_t maxKeySize;
	uint32_t handleState;
	uint32_t operationState;
	uint32_t numberOfKeys;
	TEE_OperationInfoKey keyInformation[];
} TEE_OperationInfoMultiple;

typedef struct {
	uint32_t seconds;
	uint32_t millis;
} TEE_Time;

/* Big integers live in the TA's memory, as arrays of 32-bit words (the layout is ours). */
typedef uint32_t TEE_BigInt;
typedef uint32_t TEE_BigIntFMM;
typedef uint32_t TEE_BigIntFMMContext __aligned(__alignof__(void *));

typedef uint32_t TEE_ErrorOrigin;
typedef void *TEE_Session;

#endif
