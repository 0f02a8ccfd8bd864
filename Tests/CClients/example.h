/* Shared by the example_*.c programs: the client header and a check that names the line. */
#ifndef RPROC_TEE_EXAMPLE_H
#define RPROC_TEE_EXAMPLE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tee_client_api.h>

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAILED %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)
#endif
