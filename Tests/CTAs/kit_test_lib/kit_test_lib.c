/* A TA library the kit test TA links by UUID. */
#include <tee_internal_api.h>

#include "kit_test_lib.h"

__thread int kit_test_lib_tls = 5;

static void __attribute__((constructor)) kit_test_lib_init(void)
{
	kit_test_global = kit_test_global * 10 + 2;
}

int kit_test_lib_add(int a, int b)
{
	return a + b;
}
