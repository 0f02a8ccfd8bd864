global-incdirs-y += include
srcs-y += kit_test_ta.c
srcs-y += kit_test_crypto.c
cflags-kit_test_crypto.c-y += -DKIT_TEST_PER_FILE_FLAG=1
global-incdirs-y += ../../kit_test_lib
srcs-y += kit_test_more.c
srcs-y += kit_test_families.c
