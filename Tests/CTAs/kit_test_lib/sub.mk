global-incdirs-y += .
srcs-y += kit_test_lib.c
