// rproc-tee TA dev kit: compiled into every TA with the TA's own include paths, so that its
// user_ta_header_defines.h (TA_UUID, TA_FLAGS, TA_STACK_SIZE, TA_DATA_SIZE, TA_VERSION,
// TA_DESCRIPTION, TA_CURRENT_TA_EXT_PROPERTIES) becomes what the secure world reads: OP-TEE's
// ta_head and ta_props, the kit's .rproc_tee_ta record, the trace level — and, for a TA written
// against GP 1.1, the GP 1.3 entry points the TA host calls.
#include <tee_internal_api.h>
#include <trace.h>
#include <user_ta_header.h>
#include <user_ta_header_defines.h>

#ifndef TA_VERSION
#define TA_VERSION "Undefined version"
#endif
#ifndef TA_DESCRIPTION
#define TA_DESCRIPTION "Undefined description"
#endif
#ifndef TA_FLAGS
#define TA_FLAGS 0
#endif

int trace_level = TRACE_LEVEL;
const char trace_ext_prefix[] = "TA";

const struct ta_head ta_head __attribute__((section(".ta_head"), used)) = {
	.uuid = TA_UUID,
	.stack_size = TA_STACK_SIZE + TA_FRAMEWORK_STACK_SIZE,
	.flags = TA_FLAGS,
	.depr_entry = UINT64_MAX,
};

/* What the secure world reads of a TA before it runs any of it, beside ta_head: the kit's
 * record ("RTTA", version 1) with TA_DATA_SIZE. Plain numbers: no relocation to resolve. */
const uint32_t __rproc_tee_ta[4] __attribute__((section(".rproc_tee_ta"), used)) = { 0x41545452, 1, TA_DATA_SIZE, 0 };

static const bool single_instance = (TA_FLAGS & TA_FLAG_SINGLE_INSTANCE) != 0;
static const bool multi_session = (TA_FLAGS & TA_FLAG_MULTI_SESSION) != 0;
static const bool keep_alive = (TA_FLAGS & TA_FLAG_INSTANCE_KEEP_ALIVE) != 0;
static const bool keep_crashed = (TA_FLAGS & TA_FLAG_INSTANCE_KEEP_CRASHED) != 0;
static const bool no_close_on_corrupt = (TA_FLAGS & TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT) != 0;
static const uint32_t data_size = TA_DATA_SIZE;
static const uint32_t stack_size = TA_STACK_SIZE;
static const uint32_t endian = 0;

const struct user_ta_property ta_props[] = {
	{ TA_PROP_STR_SINGLE_INSTANCE, USER_TA_PROP_TYPE_BOOL, &single_instance },
	{ TA_PROP_STR_MULTI_SESSION, USER_TA_PROP_TYPE_BOOL, &multi_session },
	{ TA_PROP_STR_KEEP_ALIVE, USER_TA_PROP_TYPE_BOOL, &keep_alive },
	{ TA_PROP_STR_KEEP_CRASHED, USER_TA_PROP_TYPE_BOOL, &keep_crashed },
	{ TA_PROP_STR_DATA_SIZE, USER_TA_PROP_TYPE_U32, &data_size },
	{ TA_PROP_STR_STACK_SIZE, USER_TA_PROP_TYPE_U32, &stack_size },
	{ TA_PROP_STR_VERSION, USER_TA_PROP_TYPE_STRING, TA_VERSION },
	{ TA_PROP_STR_DESCRIPTION, USER_TA_PROP_TYPE_STRING, TA_DESCRIPTION },
	{ TA_PROP_STR_ENDIAN, USER_TA_PROP_TYPE_U32, &endian },
	{ TA_PROP_STR_DOES_NOT_CLOSE_HANDLE_ON_CORRUPT_OBJECT, USER_TA_PROP_TYPE_BOOL, &no_close_on_corrupt },
#ifdef TA_CURRENT_TA_EXT_PROPERTIES
	TA_CURRENT_TA_EXT_PROPERTIES
#endif
};

const size_t ta_num_props = sizeof(ta_props) / sizeof(ta_props[0]);

#if __OPTEE_CORE_API_COMPAT_1_1
/* The TA defines the GP 1.1 entry points (tee_api_compat.h renamed them); the host calls GP 1.3's. */
#undef TA_OpenSessionEntryPoint
#undef TA_InvokeCommandEntryPoint
#undef TEE_Param
void rproc_tee_params_from_gp11(uint32_t types, const __GP11_TEE_Param *in, TEE_Param *out);
void rproc_tee_params_to_gp11(uint32_t types, const TEE_Param *in, __GP11_TEE_Param *out);

TEE_Result TA_OpenSessionEntryPoint(uint32_t paramTypes, TEE_Param params[TEE_NUM_PARAMS], void **sessionContext)
{
	__GP11_TEE_Param p[TEE_NUM_PARAMS] = { 0 };
	rproc_tee_params_to_gp11(paramTypes, params, p);
	TEE_Result r = __GP11_TA_OpenSessionEntryPoint(paramTypes, p, sessionContext);
	rproc_tee_params_from_gp11(paramTypes, p, params);
	return r;
}

TEE_Result TA_InvokeCommandEntryPoint(void *sessionContext, uint32_t commandID, uint32_t paramTypes, TEE_Param params[TEE_NUM_PARAMS])
{
	__GP11_TEE_Param p[TEE_NUM_PARAMS] = { 0 };
	rproc_tee_params_to_gp11(paramTypes, params, p);
	TEE_Result r = __GP11_TA_InvokeCommandEntryPoint(sessionContext, commandID, paramTypes, p);
	rproc_tee_params_from_gp11(paramTypes, p, params);
	return r;
}
#endif
