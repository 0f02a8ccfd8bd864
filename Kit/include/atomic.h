/* rproc-tee TA dev kit: OP-TEE's atomic helpers, on the compiler's __atomic builtins. */
#ifndef RPROC_TEE_ATOMIC_H
#define RPROC_TEE_ATOMIC_H

#include <compiler.h>
#include <types_ext.h>

/* The value after the change. */
static inline uint32_t atomic_inc32(volatile uint32_t *v) { return __atomic_add_fetch(v, 1, __ATOMIC_SEQ_CST); }
static inline uint32_t atomic_dec32(volatile uint32_t *v) { return __atomic_sub_fetch(v, 1, __ATOMIC_SEQ_CST); }

static inline bool atomic_cas_uint(unsigned int *p, unsigned int *oval, unsigned int nval)
{
	return __atomic_compare_exchange_n(p, oval, nval, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool atomic_cas_u32(uint32_t *p, uint32_t *oval, uint32_t nval)
{
	return __atomic_compare_exchange_n(p, oval, nval, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline int atomic_load_int(int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline short int atomic_load_short(short int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline unsigned int atomic_load_uint(unsigned int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint32_t atomic_load_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void atomic_store_int(int *p, int val) { __atomic_store_n(p, val, __ATOMIC_RELAXED); }
static inline void atomic_store_short(short int *p, short int val) { __atomic_store_n(p, val, __ATOMIC_RELAXED); }
static inline void atomic_store_uint(unsigned int *p, unsigned int val) { __atomic_store_n(p, val, __ATOMIC_RELAXED); }
static inline void atomic_store_u32(uint32_t *p, uint32_t val) { __atomic_store_n(p, val, __ATOMIC_RELAXED); }

#endif
