#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <kit_test_ta.h>

#define TA_UUID KIT_TEST_TA_UUID
#define TA_FLAGS (TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION)
#define TA_STACK_SIZE (16 * 1024)
#define TA_DATA_SIZE (256 * 1024)
#define TA_VERSION "1.2"
#define TA_DESCRIPTION "rproc-tee kit test TA"
#define TA_CURRENT_TA_EXT_PROPERTIES \
	{ "org.rproc-tee.kit_test.answer", USER_TA_PROP_TYPE_U32, &(const uint32_t){ 42 } }, \
	{ "org.rproc-tee.kit_test.motto", USER_TA_PROP_TYPE_STRING, "built with the kit" },

#endif
