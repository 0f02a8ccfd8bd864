/* rproc-tee TA dev kit: the attribute shorthands OP-TEE TAs use. Only those: names such as
 * __data or __section would collide with glibc's and libstdc++'s own identifiers. */
#ifndef RPROC_TEE_COMPILER_H
#define RPROC_TEE_COMPILER_H

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#ifndef __maybe_unused
#define __maybe_unused __attribute__((unused))
#endif
#ifndef __noreturn
#define __noreturn __attribute__((__noreturn__))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline __attribute__((always_inline)) inline
#endif
#ifndef __packed
#define __packed __attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif
#ifndef __printf
#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif
#ifndef __pure
#define __pure __attribute__((pure))
#endif
#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif
#ifndef __cold
#define __cold __attribute__((cold))
#endif
#ifndef __used
#define __used __attribute__((used))
#endif
#define __nex_bss
#define __nex_data

#ifndef __compiler_bswap64
#define __compiler_bswap64(x) __builtin_bswap64((x))
#endif
#ifndef __compiler_bswap32
#define __compiler_bswap32(x) __builtin_bswap32((x))
#endif
#ifndef __compiler_bswap16
#define __compiler_bswap16(x) __builtin_bswap16((x))
#endif
#ifndef __compiler_add_overflow
#define __compiler_add_overflow(a, b, res) __builtin_add_overflow((a), (b), (res))
#endif
#ifndef __compiler_sub_overflow
#define __compiler_sub_overflow(a, b, res) __builtin_sub_overflow((a), (b), (res))
#endif
#ifndef __compiler_mul_overflow
#define __compiler_mul_overflow(a, b, res) __builtin_mul_overflow((a), (b), (res))
#endif

#endif
