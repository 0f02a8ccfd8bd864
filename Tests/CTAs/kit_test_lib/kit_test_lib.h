#ifndef KIT_TEST_LIB_H
#define KIT_TEST_LIB_H
#include <stdint.h>
/* Defined by the TA that loads the libraries: each constructor folds its number in. */
extern int kit_test_global;
int kit_test_lib_add(int a, int b);
/* __thread data of the library, read from the TA. */
extern __thread int kit_test_lib_tls;
#endif
