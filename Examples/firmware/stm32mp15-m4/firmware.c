/*
 * Example Cortex-M4 firmware for the STM32MP15-like board: code in RETRAM (DA 0x0), data and
 * the resource table in MCUSRAM (DA 0x10000000). The resource table announces a carveout for
 * the rpmsg buffers, a trace buffer and an rpmsg vdev with two vrings in the IPC region.
 */
#include <stdint.h>
#include "rsc_table.h"

#define IPC_BASE 0x10040000u

static char trace_buffer[1024];

struct firmware_resource_table {
    struct resource_table_header header;
    uint32_t offset[3];
    struct fw_rsc_carveout buffers;
    struct fw_rsc_trace trace;
    struct fw_rsc_vdev vdev;
};

__attribute__((section(".resource_table"), used))
const struct firmware_resource_table resource_table = {
    .header = { .ver = 1, .num = 3 },
    .offset = {
        __builtin_offsetof(struct firmware_resource_table, buffers),
        __builtin_offsetof(struct firmware_resource_table, trace),
        __builtin_offsetof(struct firmware_resource_table, vdev),
    },
    .buffers = { .type = RSC_CARVEOUT, .da = IPC_BASE + 0x2000, .pa = FW_RSC_ADDR_ANY, .len = 0x4000, .name = "vdev0buffer" },
    .trace = { .type = RSC_TRACE, .da = (uint32_t)(uintptr_t)trace_buffer, .len = sizeof trace_buffer, .name = "cm4_log" },
    .vdev = {
        .type = RSC_VDEV, .id = VIRTIO_ID_RPMSG, .notifyid = 0, .dfeatures = 1u << VIRTIO_RPMSG_F_NS,
        .num_of_vrings = 2,
        .vring = {
            { .da = IPC_BASE, .align = 16, .num = 16, .notifyid = 0, .pa = 0 },
            { .da = IPC_BASE + 0x1000, .align = 16, .num = 16, .notifyid = 1, .pa = 0 },
        },
    },
};

extern uint32_t _stack_top;
void reset_handler(void);

__attribute__((section(".isr_vector"), used))
const uintptr_t vector_table[2] = { (uintptr_t)&_stack_top, (uintptr_t)reset_handler };

volatile uint32_t heartbeat = 1;
static uint32_t scratch[64];

static void trace_puts(uint32_t *pos, const char *s) {
    while (*s) { trace_buffer[*pos % sizeof trace_buffer] = *s++; (*pos)++; }
}

void reset_handler(void) {
    uint32_t pos = 0;
    trace_puts(&pos, "cm4: firmware up\n");
    for (;;) {
        heartbeat++;
        scratch[heartbeat & 63] = heartbeat;
        if ((heartbeat & 0xFFFF) == 0) trace_puts(&pos, "cm4: tick\n");
    }
}
