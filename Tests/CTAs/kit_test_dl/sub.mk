global-incdirs-y += ../kit_test_lib
srcs-y += kit_test_dl.c
