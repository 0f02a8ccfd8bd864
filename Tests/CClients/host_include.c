/* A normal-world program built as optee_test's xtest is: the TEE client header, then the kit's
 * host_include (conf.h forced in, the TA API's defines, OP-TEE's pseudo-TA interfaces, the
 * signed header, the Sockets API's constants). It checks the values and layouts a program reads
 * from them and prints "ok host_include". Compiled with -Wall -Wextra -Werror. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <tee_client_api.h>
#include <__tee_isocket_defines.h>
#include <__tee_tcpsocket_defines.h>
#include <__tee_tcpsocket_defines_extensions.h>
#include <__tee_udpsocket_defines.h>
#include <pta_attestation.h>
#include <pta_invoke_tests.h>
#include <pta_secstor_ta_mgmt.h>
#include <pta_stats.h>
#include <signed_hdr.h>
#include <tee_api_defines.h>
#include <tee_api_defines_extensions.h>
#include <utee_defines.h>
#include <util.h>

#define CHECK(cond)                                                 \
    do {                                                            \
        if (!(cond)) {                                              \
            printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                               \
        }                                                           \
    } while (0)

int main(void)
{
    /* conf.h, forced in with -include: the TEE's configuration. */
    CHECK(CFG_TEE_TA_LOG_LEVEL == 2 && CFG_REE_FS == 1);
    /* util.h brings inttypes.h, as OP-TEE's does (xtest's clear_storage.c prints with PRIx32). */
    char text[16];
    snprintf(text, sizeof(text), "%" PRIx32, (uint32_t)0xabc);
    CHECK(text[0] == 'a');
    /* The signed header's layout (xtest 1008 damages each field at its offset). */
    CHECK(sizeof(struct shdr) == 20 && offsetof(struct shdr, algo) == 12 && offsetof(struct shdr, sig_size) == 18);
    CHECK(sizeof(struct shdr_bootstrap_ta) == 20 && sizeof(struct shdr_encrypted_ta) == 12 && SHDR_MAGIC == 0x4f545348);
    struct shdr h = { .hash_size = 32, .sig_size = 256 };
    CHECK(SHDR_GET_SIZE(&h) == 308 && SHDR_GET_SIG(&h) == (uint8_t *)&h + 52);
    /* Pseudo-TA interfaces: UUIDs and commands. */
    TEEC_UUID invoke = PTA_INVOKE_TESTS_UUID, stats = STATS_UUID, secstor = PTA_SECSTOR_TA_MGMT_UUID;
    CHECK(invoke.timeLow == 0xd96a5b40 && invoke.timeMid == 0xc3e5 && stats.timeMid == 0xe2c7 && secstor.clockSeqAndNode[7] == 0xdd);
    CHECK(PTA_INVOKE_TESTS_CMD_TRANSFER_LIST_TESTS == 12 && STATS_CMD_PRINT_DRIVER_INFO == 5 && PTA_SECSTOR_TA_MGMT_BOOTSTRAP == 0);
    CHECK(sizeof(struct pta_stats_alloc) == 64 && sizeof(struct pta_stats_ta) == 88);
    /* Sockets API constants. */
    CHECK(TEE_ISOCKET_ERROR_HOSTNAME == 0xF1007007 && TEE_ISOCKET_PROTOCOLID_UDP == 0x66 && TEE_TCP_SET_SENDBUF == 0x65f00001);
    /* The algorithm helpers (xtest classifies its vectors with them). */
    CHECK(TEE_ALG_GET_MAIN_ALG(TEE_ALG_ECDSA_SHA256) == TEE_MAIN_ALGO_ECDSA);
    CHECK(TEE_ALG_GET_MAIN_ALG(TEE_ALG_ECDH_DERIVE_SHARED_SECRET) == TEE_MAIN_ALGO_ECDH);
    CHECK(TEE_ALG_GET_MAIN_ALG(TEE_ALG_HKDF_SHA256_DERIVE_KEY) == TEE_MAIN_ALGO_HKDF);
    CHECK(TEE_ALG_GET_DIGEST_SIZE(TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA512) == TEE_SHA512_HASH_SIZE);
    printf("ok host_include\n");
    return 0;
}
