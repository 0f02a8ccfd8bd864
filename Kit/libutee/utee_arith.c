// libutee.so: GP's arithmetical API. A big integer lives in the TA's memory (rproc_tee_ta_abi.h
// gives the layout); each operation goes to the host's Swift runtime with the addresses, which
// reads the operands there, computes with GP's rules (a result that does not fit, a division by
// zero … is a panic) and writes the destination back.
#include "utee_internal.h"

#include <string.h>

#define LIMIT_LIMBS (4096 / 32)

static uint64_t a(const void *p) { return (uint64_t)(uintptr_t)p; }

static TEE_Result op(uint32_t which, struct rproc_tee_call *c)
{
    c->value[0] = which;
    return utee_call(RPROC_TEE_FN_BIGINT, c);
}

static void must(TEE_Result r, const char *function)
{
    if (r != TEE_SUCCESS)
        utee_panic(r, function);
}

size_t TEE_BigIntFMMSizeInU32(size_t modulusSizeInBits) { return TEE_BigIntSizeInU32(modulusSizeInBits); }
size_t TEE_BigIntFMMContextSizeInU32(size_t modulusSizeInBits) { (void)modulusSizeInBits; return 2; }
uint32_t __GP11_TEE_BigIntFMMSizeInU32(uint32_t bits) { return (uint32_t)TEE_BigIntFMMSizeInU32(bits); }
uint32_t __GP11_TEE_BigIntFMMContextSizeInU32(uint32_t bits) { return (uint32_t)TEE_BigIntFMMContextSizeInU32(bits); }

void TEE_BigIntInit(TEE_BigInt *bigInt, size_t len)
{
    // GP: len is TEE_BigIntSizeInU32 of the capacity; rproc-tee's largest is 4096 bits.
    if (!bigInt || len < 2 || len - 2 > LIMIT_LIMBS)
        utee_panic(0xB16127, "TEE_BigIntInit: a NULL variable or a capacity above 4096 bits");
    memset(bigInt, 0, len * sizeof(uint32_t));
    bigInt[0] = RPROC_TEE_BIGINT_MAGIC | (uint32_t)(len - 2);
}

void __GP11_TEE_BigIntInit(TEE_BigInt *bigInt, uint32_t len) { TEE_BigIntInit(bigInt, len); }

void TEE_BigIntInitFMM(TEE_BigIntFMM *bigIntFMM, size_t len) { TEE_BigIntInit(bigIntFMM, len); }
void __GP11_TEE_BigIntInitFMM(TEE_BigIntFMM *bigIntFMM, uint32_t len) { TEE_BigIntInit(bigIntFMM, len); }

TEE_Result TEE_BigIntInitFMMContext1(TEE_BigIntFMMContext *context, size_t len, const TEE_BigInt *modulus)
{
    // The FMM representation here is the plain residue: the context needs nothing of the modulus.
    if (!context || len < 2 || !modulus)
        utee_panic(0xB16127, "TEE_BigIntInitFMMContext: a NULL context or modulus");
    context[0] = RPROC_TEE_BIGINT_MAGIC;
    context[1] = 0;
    return TEE_SUCCESS;
}

void TEE_BigIntInitFMMContext(TEE_BigIntFMMContext *context, size_t len, const TEE_BigInt *modulus)
{
    TEE_BigIntInitFMMContext1(context, len, modulus);
}

void __GP11_TEE_BigIntInitFMMContext(TEE_BigIntFMMContext *context, uint32_t len, const TEE_BigInt *modulus)
{
    TEE_BigIntInitFMMContext1(context, len, modulus);
}

TEE_Result TEE_BigIntConvertFromOctetString(TEE_BigInt *dest, const uint8_t *buffer, size_t bufferLen, int32_t sign)
{
    REQUIRE(dest && (buffer || !bufferLen), "TEE_BigIntConvertFromOctetString");
    struct rproc_tee_call c = { .handle = { a(dest) }, .value = { 0, 0, 0, 0, (uint64_t)(int64_t)sign }, .in = { buffer }, .in_len = { bufferLen } };
    return op(RPROC_TEE_BIGINT_FROM_OCTETS, &c);
}

TEE_Result __GP11_TEE_BigIntConvertFromOctetString(TEE_BigInt *dest, const uint8_t *buffer, uint32_t bufferLen, int32_t sign)
{
    return TEE_BigIntConvertFromOctetString(dest, buffer, bufferLen, sign);
}

TEE_Result TEE_BigIntConvertToOctetString(uint8_t *buffer, size_t *bufferLen, const TEE_BigInt *bigInt)
{
    REQUIRE(bufferLen && bigInt && (buffer || !*bufferLen), "TEE_BigIntConvertToOctetString");
    struct rproc_tee_call c = { .handle = { 0, a(bigInt) }, .out = { buffer }, .out_len = { *bufferLen } };
    TEE_Result r = op(RPROC_TEE_BIGINT_TO_OCTETS, &c);
    *bufferLen = c.out_len[0];
    return r;
}

TEE_Result __GP11_TEE_BigIntConvertToOctetString(uint8_t *buffer, uint32_t *bufferLen, const TEE_BigInt *bigInt)
{
    REQUIRE(bufferLen, "TEE_BigIntConvertToOctetString");
    size_t n = *bufferLen;
    TEE_Result r = TEE_BigIntConvertToOctetString(buffer, &n, bigInt);
    *bufferLen = (uint32_t)n;
    return r;
}

void TEE_BigIntConvertFromS32(TEE_BigInt *dest, int32_t shortVal)
{
    struct rproc_tee_call c = { .handle = { a(dest) }, .value = { 0, 0, 0, 0, (uint64_t)(int64_t)shortVal } };
    must(op(RPROC_TEE_BIGINT_FROM_S32, &c), "TEE_BigIntConvertFromS32");
}

TEE_Result TEE_BigIntConvertToS32(int32_t *dest, const TEE_BigInt *src)
{
    REQUIRE(dest, "TEE_BigIntConvertToS32");
    struct rproc_tee_call c = { .handle = { 0, a(src) } };
    TEE_Result r = op(RPROC_TEE_BIGINT_TO_S32, &c);
    if (r == TEE_SUCCESS)
        *dest = (int32_t)c.value[5];
    return r;
}

static int64_t scalar_out(uint32_t which, const TEE_BigInt *op1, const TEE_BigInt *op2, int64_t in, const char *function)
{
    struct rproc_tee_call c = { .handle = { 0, a(op1), a(op2) }, .value = { 0, 0, 0, 0, (uint64_t)in } };
    must(op(which, &c), function);
    return (int64_t)c.value[5];
}

int32_t TEE_BigIntCmp(const TEE_BigInt *op1, const TEE_BigInt *op2)
{
    return (int32_t)scalar_out(RPROC_TEE_BIGINT_CMP, op1, op2, 0, "TEE_BigIntCmp");
}

int32_t TEE_BigIntCmpS32(const TEE_BigInt *op1, int32_t shortVal)
{
    return (int32_t)scalar_out(RPROC_TEE_BIGINT_CMP_S32, op1, NULL, shortVal, "TEE_BigIntCmpS32");
}

void TEE_BigIntShiftRight(TEE_BigInt *dest, const TEE_BigInt *op1, size_t bits)
{
    struct rproc_tee_call c = { .handle = { a(dest), a(op1) }, .value = { 0, 0, 0, 0, bits } };
    must(op(RPROC_TEE_BIGINT_SHIFT_RIGHT, &c), "TEE_BigIntShiftRight");
}

void __GP11_TEE_BigIntShiftRight(TEE_BigInt *dest, const TEE_BigInt *op1, uint32_t bits) { TEE_BigIntShiftRight(dest, op1, bits); }

bool TEE_BigIntGetBit(const TEE_BigInt *src, uint32_t bitIndex)
{
    return scalar_out(RPROC_TEE_BIGINT_GET_BIT, src, NULL, bitIndex, "TEE_BigIntGetBit") != 0;
}

uint32_t TEE_BigIntGetBitCount(const TEE_BigInt *src)
{
    return (uint32_t)scalar_out(RPROC_TEE_BIGINT_BIT_COUNT, src, NULL, 0, "TEE_BigIntGetBitCount");
}

TEE_Result TEE_BigIntSetBit(TEE_BigInt *dest, uint32_t bitIndex, bool value)
{
    struct rproc_tee_call c = { .handle = { a(dest) }, .value = { 0, 0, 0, value, bitIndex } };
    return op(RPROC_TEE_BIGINT_SET_BIT, &c);
}

TEE_Result TEE_BigIntAssign(TEE_BigInt *dest, const TEE_BigInt *src)
{
    struct rproc_tee_call c = { .handle = { a(dest), a(src) } };
    return op(RPROC_TEE_BIGINT_ASSIGN, &c);
}

TEE_Result TEE_BigIntAbs(TEE_BigInt *dest, const TEE_BigInt *src)
{
    struct rproc_tee_call c = { .handle = { a(dest), a(src) } };
    return op(RPROC_TEE_BIGINT_ABS, &c);
}

/// dest = f(op1, op2 [, n]): the functions GP defines as returning nothing.
static void binary(uint32_t which, TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2, const TEE_BigInt *n, const char *function)
{
    struct rproc_tee_call c = { .handle = { a(dest), a(op1), a(op2) }, .value = { 0, a(n) } };
    must(op(which, &c), function);
}

void TEE_BigIntAdd(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2) { binary(RPROC_TEE_BIGINT_ADD, dest, op1, op2, NULL, "TEE_BigIntAdd"); }
void TEE_BigIntSub(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2) { binary(RPROC_TEE_BIGINT_SUB, dest, op1, op2, NULL, "TEE_BigIntSub"); }
void TEE_BigIntNeg(TEE_BigInt *dest, const TEE_BigInt *op1) { binary(RPROC_TEE_BIGINT_NEG, dest, op1, NULL, NULL, "TEE_BigIntNeg"); }
void TEE_BigIntMul(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2) { binary(RPROC_TEE_BIGINT_MUL, dest, op1, op2, NULL, "TEE_BigIntMul"); }
void TEE_BigIntSquare(TEE_BigInt *dest, const TEE_BigInt *op1) { binary(RPROC_TEE_BIGINT_SQUARE, dest, op1, NULL, NULL, "TEE_BigIntSquare"); }

void TEE_BigIntDiv(TEE_BigInt *dest_q, TEE_BigInt *dest_r, const TEE_BigInt *op1, const TEE_BigInt *op2)
{
    struct rproc_tee_call c = { .handle = { a(dest_q), a(op1), a(op2) }, .value = { 0, 0, a(dest_r) } };
    must(op(RPROC_TEE_BIGINT_DIV, &c), "TEE_BigIntDiv");
}

void TEE_BigIntMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_MOD, dest, op1, NULL, n, "TEE_BigIntMod"); }
void TEE_BigIntAddMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_ADD_MOD, dest, op1, op2, n, "TEE_BigIntAddMod"); }
void TEE_BigIntSubMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_SUB_MOD, dest, op1, op2, n, "TEE_BigIntSubMod"); }
void TEE_BigIntMulMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_MUL_MOD, dest, op1, op2, n, "TEE_BigIntMulMod"); }
void TEE_BigIntSquareMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_SQUARE_MOD, dest, op1, NULL, n, "TEE_BigIntSquareMod"); }
void TEE_BigIntInvMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *n) { binary(RPROC_TEE_BIGINT_INV_MOD, dest, op1, NULL, n, "TEE_BigIntInvMod"); }

TEE_Result TEE_BigIntExpMod(TEE_BigInt *dest, const TEE_BigInt *op1, const TEE_BigInt *op2, const TEE_BigInt *n, const TEE_BigIntFMMContext *context)
{
    (void)context;
    struct rproc_tee_call c = { .handle = { a(dest), a(op1), a(op2) }, .value = { 0, a(n) } };
    return op(RPROC_TEE_BIGINT_EXP_MOD, &c);
}

bool TEE_BigIntRelativePrime(const TEE_BigInt *op1, const TEE_BigInt *op2)
{
    return scalar_out(RPROC_TEE_BIGINT_RELATIVE_PRIME, op1, op2, 0, "TEE_BigIntRelativePrime") != 0;
}

void TEE_BigIntComputeExtendedGcd(TEE_BigInt *gcd, TEE_BigInt *u, TEE_BigInt *v, const TEE_BigInt *op1, const TEE_BigInt *op2)
{
    struct rproc_tee_call c = { .handle = { a(gcd), a(op1), a(op2) }, .value = { 0, 0, a(u), a(v) } };
    must(op(RPROC_TEE_BIGINT_EXTENDED_GCD, &c), "TEE_BigIntComputeExtendedGcd");
}

int32_t TEE_BigIntIsProbablePrime(const TEE_BigInt *op1, uint32_t confidenceLevel)
{
    return (int32_t)scalar_out(RPROC_TEE_BIGINT_IS_PRIME, op1, NULL, confidenceLevel, "TEE_BigIntIsProbablePrime");
}

void TEE_BigIntConvertToFMM(TEE_BigIntFMM *dest, const TEE_BigInt *src, const TEE_BigInt *n, const TEE_BigIntFMMContext *context)
{
    (void)context;
    binary(RPROC_TEE_BIGINT_TO_FMM, dest, src, NULL, n, "TEE_BigIntConvertToFMM");
}

void TEE_BigIntConvertFromFMM(TEE_BigInt *dest, const TEE_BigIntFMM *src, const TEE_BigInt *n, const TEE_BigIntFMMContext *context)
{
    (void)context;
    binary(RPROC_TEE_BIGINT_FROM_FMM, dest, src, NULL, n, "TEE_BigIntConvertFromFMM");
}

void TEE_BigIntComputeFMM(TEE_BigIntFMM *dest, const TEE_BigIntFMM *op1, const TEE_BigIntFMM *op2, const TEE_BigInt *n,
                          const TEE_BigIntFMMContext *context)
{
    (void)context;
    binary(RPROC_TEE_BIGINT_COMPUTE_FMM, dest, op1, op2, n, "TEE_BigIntComputeFMM");
}
