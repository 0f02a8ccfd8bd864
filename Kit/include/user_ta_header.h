/* rproc-tee TA dev kit: what a TA declares about itself (OP-TEE's ta_head and ta_props, filled in
 * by the kit's user_ta_header.c from the TA's user_ta_header_defines.h). Our own header; the
 * flag values, struct ta_head's layout and the property names are OP-TEE's interface. */
#ifndef RPROC_TEE_USER_TA_HEADER_H
#define RPROC_TEE_USER_TA_HEADER_H

#include <stdint.h>
#include <tee_api_types.h>
#include <util.h>

#define TA_FLAG_USER_MODE 0
#define TA_FLAG_EXEC_DDR 0
#define TA_FLAG_SINGLE_INSTANCE BIT32(2)
#define TA_FLAG_MULTI_SESSION BIT32(3)
#define TA_FLAG_INSTANCE_KEEP_ALIVE BIT32(4)
#define TA_FLAG_SECURE_DATA_PATH BIT32(5)
#define TA_FLAG_REMAP_SUPPORT 0
#define TA_FLAG_CACHE_MAINTENANCE BIT32(7)
#define TA_FLAG_CONCURRENT BIT32(8)
#define TA_FLAG_DEVICE_ENUM BIT32(9)
#define TA_FLAG_DEVICE_ENUM_SUPP BIT32(10)
#define TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT BIT32(11)
#define TA_FLAG_DEVICE_ENUM_TEE_STORAGE_PRIVATE BIT32(12)
#define TA_FLAG_INSTANCE_KEEP_CRASHED BIT32(13)
#define TA_FLAGS_MASK GENMASK_32(13, 0)

/* The stack the runtime's own frames need beyond TA_STACK_SIZE. */
#define TA_FRAMEWORK_STACK_SIZE 2048

/* In section .ta_head: what the loader reads before any of the TA runs. */
struct ta_head {
	TEE_UUID uuid;
	uint32_t stack_size;
	uint32_t flags;
	uint64_t depr_entry;
};

#define TA_PROP_STR_SINGLE_INSTANCE "gpd.ta.singleInstance"
#define TA_PROP_STR_MULTI_SESSION "gpd.ta.multiSession"
#define TA_PROP_STR_KEEP_ALIVE "gpd.ta.instanceKeepAlive"
#define TA_PROP_STR_KEEP_CRASHED "optee.ta.instanceKeepCrashed"
#define TA_PROP_STR_DATA_SIZE "gpd.ta.dataSize"
#define TA_PROP_STR_STACK_SIZE "gpd.ta.stackSize"
#define TA_PROP_STR_VERSION "gpd.ta.version"
#define TA_PROP_STR_DESCRIPTION "gpd.ta.description"
#define TA_PROP_STR_ENDIAN "gpd.ta.endian"
#define TA_PROP_STR_DOES_NOT_CLOSE_HANDLE_ON_CORRUPT_OBJECT "gpd.ta.doesNotCloseHandleOnCorruptObject"

enum user_ta_prop_type {
	USER_TA_PROP_TYPE_BOOL,         /* bool */
	USER_TA_PROP_TYPE_U32,          /* uint32_t */
	USER_TA_PROP_TYPE_UUID,         /* TEE_UUID */
	USER_TA_PROP_TYPE_IDENTITY,     /* TEE_Identity */
	USER_TA_PROP_TYPE_STRING,       /* zero-terminated string of char */
	USER_TA_PROP_TYPE_BINARY_BLOCK, /* zero-terminated base64 text */
	USER_TA_PROP_TYPE_U64,          /* uint64_t */
	USER_TA_PROP_TYPE_INVALID,
};

struct user_ta_property {
	const char *name;
	enum user_ta_prop_type type;
	const void *value;
};

extern const struct ta_head ta_head;
extern const struct user_ta_property ta_props[];
extern const size_t ta_num_props;

#endif
