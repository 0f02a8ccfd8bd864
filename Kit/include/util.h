/* rproc-tee TA dev kit: the small utility macros OP-TEE TAs use. Our own header. */
#ifndef RPROC_TEE_UTIL_H
#define RPROC_TEE_UTIL_H

#include <assert.h>
#include <compiler.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#define SIZE_4K UINTPTR_C(0x1000)
#define SIZE_1M UINTPTR_C(0x100000)
#define SIZE_2M UINTPTR_C(0x200000)
#define SIZE_4M UINTPTR_C(0x400000)
#define SIZE_8M UINTPTR_C(0x800000)
#define SIZE_2G UINTPTR_C(0x80000000)

#ifndef MAX
#define MAX(a, b) (__extension__({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; }))
#define MIN(a, b) (__extension__({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; }))
#endif
#define MAX_UNSAFE(a, b) (((a) > (b)) ? (a) : (b))
#define MIN_UNSAFE(a, b) (((a) < (b)) ? (a) : (b))

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#define ROUNDUP(v, size) (((v) + ((__typeof__(v))(size) - 1)) & ~((__typeof__(v))(size) - 1))
#define ROUNDUP_DIV(x, y) (__extension__({ __typeof__(x) _r = ROUNDUP((x), (y)); _r / (__typeof__(x))(y); }))
#define ROUNDDOWN(v, size) ((v) & ~((__typeof__(v))(size) - 1))
#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))
#define IS_POWER_OF_TWO(x) (((x) != 0) && (((x) & (~(x) + 1)) == (x)))
#define IS_ALIGNED(x, a) (((x) & ((a) - 1)) == 0)
#define IS_ALIGNED_WITH_TYPE(x, type) (__extension__({ type __is_aligned_y; IS_ALIGNED((uintptr_t)(x), __alignof__(__is_aligned_y)); }))

#define TO_STR(x) _TO_STR(x)
#define _TO_STR(x) #x
#define CONCAT(x, y) _CONCAT(x, y)
#define _CONCAT(x, y) x##y

#define container_of(ptr, type, member) \
	(__extension__({ const __typeof__(((type *)0)->member) *__ptr = (ptr); (type *)((unsigned long)(__ptr) - offsetof(type, member)); }))
#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

#define BIT32(nr) (UINT32_C(1) << (nr))
#define BIT64(nr) (UINT64_C(1) << (nr))
#define BIT(nr) BIT32(nr)
#define SHIFT_U32(v, shift) ((uint32_t)(v) << (shift))
#define SHIFT_U64(v, shift) ((uint64_t)(v) << (shift))
#define GENMASK_32(h, l) ((UINT32_C(0xffffffff) << (l)) & (UINT32_C(0xffffffff) >> (32 - 1 - (h))))
#define GENMASK_64(h, l) ((~UINT64_C(0) << (l)) & (~UINT64_C(0) >> (64 - 1 - (h))))

#define ADD_OVERFLOW(a, b, res) __builtin_add_overflow((a), (b), (res))
#define SUB_OVERFLOW(a, b, res) __builtin_sub_overflow((a), (b), (res))
#define MUL_OVERFLOW(a, b, res) __builtin_mul_overflow((a), (b), (res))

#define reg_pair_to_64(reg0, reg1) (((uint64_t)(reg0) << 32) | (reg1))
#define high32_from_64(val) ((uint32_t)((uint64_t)(val) >> 32))
#define low32_from_64(val) ((uint32_t)(uint64_t)(val))

#endif
