/* The kit test TA's interface, shared with its client (Tests/CClients/kit_test.c). */
#ifndef KIT_TEST_TA_H
#define KIT_TEST_TA_H

#define KIT_TEST_TA_UUID \
	{ 0x5f8b97c4, 0x6a2e, 0x4a3c, { 0x9c, 0x1e, 0x0b, 0x7d, 0x4e, 0x2a, 0x1f, 0x01 } }

/* [inout] value: a + b, a * b */
#define KIT_TEST_CMD_VALUES 0
/* [inout] memref: reversed in place; [out] memref: value a bytes of 0xA5, SHORT_BUFFER below */
#define KIT_TEST_CMD_MEMREFS 1
/* [in] memref data, [out] memref SHA-256 */
#define KIT_TEST_CMD_SHA256 2
/* [in] memref key, [in] memref data, [out] memref HMAC-SHA256 */
#define KIT_TEST_CMD_HMAC 3
/* [in] memref 16-byte key, [in] memref plaintext (blocks), [out] memref AES-ECB ciphertext */
#define KIT_TEST_CMD_AES_ECB 4
/* [out] value a: 1 if an AES-GCM round trip holds and a changed tag fails with MAC_INVALID */
#define KIT_TEST_CMD_AES_GCM 5
/* [out] value a: 1 if RSA-2048 PSS sign/verify holds and a changed digest fails */
#define KIT_TEST_CMD_RSA 6
/* [out] value a: 1 if ECDSA P-256 sign/verify and ECDH agree */
#define KIT_TEST_CMD_EC 7
/* [in] memref object id, [in] memref data, [out] memref what was read back after reopen */
#define KIT_TEST_CMD_STORAGE 8
/* [out] memref: "description|version|answer|motto|login" of the properties */
#define KIT_TEST_CMD_PROPERTIES 9
/* [in] value a: ms to wait; [out] value a: ms measured, b: 1 if the persistent time ran */
#define KIT_TEST_CMD_TIME 10
/* TEE_Panic(value a) */
#define KIT_TEST_CMD_PANIC 11
/* unmask cancellation, TEE_Wait(value a ms): CANCEL if the client cancels */
#define KIT_TEST_CMD_CANCELLABLE_WAIT 12
/* [inout] value a: through the hello_world TA (TA-to-TA): a + 1 */
#define KIT_TEST_CMD_TA_TO_TA 13
/* TEE_CloseObject on a handle never given out (a panic, as GP says) */
#define KIT_TEST_CMD_BAD_HANDLE 14
/* [out] value a: 1 if TEE_Malloc refuses twice TA_DATA_SIZE and accepts small ones */
#define KIT_TEST_CMD_MALLOC 15
/* [in] memref: [out] value a: bit per TEE_CheckMemoryAccessRights answer as expected */
#define KIT_TEST_CMD_ACCESS_RIGHTS 16
/* [out] value a: KIT_TEST_PER_FILE_FLAG as compiled (per-file cflags from sub.mk) */
#define KIT_TEST_CMD_BUILD_FLAGS 17

/* [out] value: kit_test_global after the constructors (21), the library's add (5);
 * [out] value: after dlopen of the run-time library: its mul (42), kit_test_global (213);
 * [out] value: the library's __thread value (5), the modules dl_iterate_phdr visited (a count
 * with bit 31 set if it returned the callback's 123) */
#define KIT_TEST_CMD_LIBRARIES 18
/* [out] memref: 4-byte BE length + 0x0102030405060708090A * 1000, then 4-byte BE length +
 * 3^200 mod 2^61-1; [out] value a: 17^-1 mod 3120 */
#define KIT_TEST_CMD_ARITH 19
/* reads through TEE_Malloc(0)'s pointer (faults: TARGET_DEAD) */
#define KIT_TEST_CMD_ZERO_MALLOC 20
/* [in] memref: opens an object whose id is that client memory (a panic) */
#define KIT_TEST_CMD_ID_IN_SHM 21
/* [in] value a: 0 into the TA's own buffer, 1 into [out] memref (the client's: SECURITY);
 * through the system pseudo-TA's DERIVE_TA_UNIQUE_KEY */
#define KIT_TEST_CMD_DERIVE_KEY 22
/* [in] value a: added to INT_MAX (signed overflow: undefined behaviour a UBSan build reports) */
#define KIT_TEST_CMD_UNDEFINED 23
/* [out] value a: a bit per escape that failed as it must (a hostile TA trying the file system,
 * the network and the coverage folder from its host); b: 1 if its own image opened read-only
 * (the broker's one yes) */
#define KIT_TEST_CMD_ESCAPE 24
/* writes one byte past the end of a 16-byte TEE_Malloc buffer (a heap-buffer-overflow an
 * ASan build reports) */
#define KIT_TEST_CMD_OVERFLOW 25
/* [out] value a: a bit per ASan self-test of the kit (asan_test.h, in order: stack, global
 * static, global read-only, global, malloc, malloc2, use after free, memcpy dst, memcpy src,
 * memset) that the sanitizer caught; NOT_SUPPORTED unless built with -fsanitize=address */
#define KIT_TEST_CMD_ASAN_SELF_TESTS 26
/* [out] value a: a bit per crypto family that passed (kit_test_families.c: digests, AES CBC/CTR,
 * AES-CMAC, 3DES, AES-CCM, RSA OAEP and PKCS#1 v1.5, DSA, DH, HKDF and PBKDF2, the headers'
 * algorithm helpers) */
#define KIT_TEST_CMD_FAMILIES 27

#endif
