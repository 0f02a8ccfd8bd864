/* rproc-tee TA dev kit: the interface of OP-TEE's statistics pseudo-TA (xtest --stats), so that
 * programs written against it build. rproc-tee does not serve it: opening a session to it
 * answers ITEM_NOT_FOUND. Names, values and layouts are OP-TEE's interface. */
#ifndef RPROC_TEE_PTA_STATS_H
#define RPROC_TEE_PTA_STATS_H

#include <stdint.h>
#include <tee_api_types.h>

#define STATS_UUID \
	{ 0xd96a5b40, 0xe2c7, 0xb1af, { 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b } }

#define STATS_CMD_PAGER_STATS 0
#define STATS_CMD_ALLOC_STATS 1
#define STATS_CMD_MEMLEAK_STATS 2
#define STATS_CMD_TA_STATS 3
#define STATS_CMD_GET_TIME 4
#define STATS_CMD_PRINT_DRIVER_INFO 5

/* STATS_CMD_ALLOC_STATS's allocators */
#define ALLOC_ID_ALL 0
#define ALLOC_ID_HEAP 1
#define ALLOC_ID_PUBLIC_DDR 2
#define ALLOC_ID_TA_RAM 3
#define ALLOC_ID_NEXUS_HEAP 4
#define ALLOC_ID_RPMB 5
#define STATS_NB_POOLS 5

/* STATS_CMD_PRINT_DRIVER_INFO's driver types */
#define STATS_DRIVER_TYPE_CLOCK 0
#define STATS_DRIVER_TYPE_REGULATOR 1

#define TEE_ALLOCATOR_DESC_LENGTH 32

struct pta_stats_alloc {
	char desc[TEE_ALLOCATOR_DESC_LENGTH];
	uint64_t free2_sum;
	uint32_t allocated;
	uint32_t max_allocated;
	uint32_t size;
	uint32_t num_alloc_fail;
	uint32_t biggest_alloc_fail;
	uint32_t biggest_alloc_fail_used;
};

struct pta_stats_ta {
	TEE_UUID uuid;
	uint32_t panicked;
	uint32_t sess_num;
	struct pta_stats_alloc heap;
};

#endif
