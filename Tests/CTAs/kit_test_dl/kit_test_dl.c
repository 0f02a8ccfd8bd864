/* A TA library the kit test TA loads at run time with dlopen by UUID. */
#include <tee_internal_api.h>

#include "kit_test_lib.h"

int kit_test_dl_mul(int a, int b);

static void __attribute__((constructor)) kit_test_dl_init(void)
{
	kit_test_global = kit_test_global * 10 + 3;
}

int kit_test_dl_mul(int a, int b)
{
	return a * b;
}
