/*
 * Example Zephyr-like non-secure image for the STM32MP25-like board's Cortex-M33: runs from
 * non-secure DDR and carries the resource table (trace buffer and rpmsg vdev) the Linux side uses.
 * It writes "zephyr: booting on cortex-m33 (non-secure)", then "zephyr: tick N" every 65,536
 * turns of its loop. Built with EXAMPLE_PEEK_SECURE (stm32mp25-zephyr-ns-peek.elf) it reads the
 * secure image's SRAM at 0x0E080000 after its first tick: a non-secure access to secure memory,
 * which must be a bus fault. Built with EXAMPLE_UDF (stm32mp25-zephyr-ns-udf.elf) it executes an
 * undefined instruction instead: an exception the core cannot take, after the hand-over.
 */
#include <stdint.h>
#include "example_trace.h"
#include "rsc_table.h"

#define IPC_BASE 0x81000000u

static char trace_buffer[2048];

struct ns_resource_table {
    struct resource_table_header header;
    uint32_t offset[2];
    struct fw_rsc_trace trace;
    struct fw_rsc_vdev vdev;
};

__attribute__((section(".resource_table"), used))
const struct ns_resource_table resource_table = {
    .header = { .ver = 1, .num = 2 },
    .offset = {
        __builtin_offsetof(struct ns_resource_table, trace),
        __builtin_offsetof(struct ns_resource_table, vdev),
    },
    .trace = { .type = RSC_TRACE, .da = (uint32_t)(uintptr_t)trace_buffer, .len = sizeof trace_buffer, .name = "zephyr_log" },
    .vdev = {
        .type = RSC_VDEV, .id = VIRTIO_ID_RPMSG, .notifyid = 0, .dfeatures = 1u << VIRTIO_RPMSG_F_NS,
        .num_of_vrings = 2,
        .vring = {
            { .da = IPC_BASE, .align = 16, .num = 8, .notifyid = 0, .pa = 0 },
            { .da = IPC_BASE + 0x1000, .align = 16, .num = 8, .notifyid = 1, .pa = 0 },
        },
    },
};

extern uint32_t _stack_top;
void ns_reset(void);

__attribute__((section(".isr_vector"), used))
const uintptr_t ns_vectors[2] = { (uintptr_t)&_stack_top, (uintptr_t)ns_reset };

volatile uint32_t ns_ticks;
static struct trace_ring trace = { trace_buffer, sizeof trace_buffer, 0 };

void ns_reset(void) {
    uint32_t ticks = 0;
    trace_puts(&trace, "zephyr: booting on cortex-m33 (non-secure)\n");
    for (;;) {
        ns_ticks++;
        if ((ns_ticks & 0xFFFF) == 0) {
            ticks++;
            trace_puts(&trace, "zephyr: tick ");
            trace_number(&trace, ticks);
            trace_puts(&trace, "\n");
#ifdef EXAMPLE_UDF
            trace_puts(&trace, "zephyr: executing UDF\n");
            __asm__ volatile("udf #0");
#endif
#ifdef EXAMPLE_PEEK_SECURE
            trace_puts(&trace, "zephyr: reading secure SRAM\n");
            ns_ticks += *(volatile uint32_t *)0x0E080000u;
#endif
        }
    }
}
