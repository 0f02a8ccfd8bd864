/* rproc-tee TA dev kit: OP-TEE's extensions of the Internal API that TAs call. Our own header;
 * the names and signatures are OP-TEE's interface. */
#ifndef RPROC_TEE_TEE_INTERNAL_API_EXTENSIONS_H
#define RPROC_TEE_TEE_INTERNAL_API_EXTENSIONS_H

#include <stdio.h>
#include <types_ext.h>
#include <tee_api_defines_extensions.h>
#include <tee_api_types.h>
#include <trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TEE_Malloc's hint: leave the memory as it comes (OP-TEE's extension). */
#define TEE_USER_MEM_HINT_NO_FILL_ZERO 0x80000000

/* Caches: a simulated TEE has no cache to maintain; each checks the TA may access the range. */
TEE_Result TEE_CacheClean(char *buf, size_t len);
TEE_Result TEE_CacheFlush(char *buf, size_t len);
TEE_Result TEE_CacheInvalidate(char *buf, size_t len);

/* Zero-initialized memory of the TA's own, mapped and unmapped by page. */
void *tee_map_zi(size_t len, uint32_t flags);
TEE_Result tee_unmap(void *buf, size_t len);

/* "8aaaf200-2450-11e4-abe2-0002a5d5c51b" into a TEE_UUID: BAD_PARAMETERS if it is not one. */
TEE_Result tee_uuid_from_str(TEE_UUID *uuid, const char *s);

/* Runs command `cmd` of the tee-supplicant plugin `uuid` in the normal world with `buf`. */
TEE_Result tee_invoke_supp_plugin(const TEE_UUID *uuid, uint32_t cmd, uint32_t sub_cmd, void *buf, size_t len,
				  size_t *outlen);

#ifdef __cplusplus
}
#endif

#endif
