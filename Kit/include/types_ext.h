/* rproc-tee TA dev kit: OP-TEE's address types. Deliberately without <unistd.h> (a TA may name a
 * function of its own truncate(), as optee_examples' hotp does). */
#ifndef RPROC_TEE_TYPES_EXT_H
#define RPROC_TEE_TYPES_EXT_H
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uintptr_t vaddr_t;
typedef uintptr_t paddr_t;
typedef uintptr_t uaddr_t;
typedef size_t paddr_size_t;
#define PRIxVA PRIxPTR
#define PRIxPA PRIxPTR
#define PRIxVA_WIDTH ((int)(sizeof(vaddr_t) * 2))
#define PRIxPA_WIDTH ((int)(sizeof(paddr_t) * 2))
#endif
