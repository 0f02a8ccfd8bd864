/*
 * Example Cortex-M4 firmware for the STM32MP15-like board: code in RETRAM (DA 0x0), data and
 * the resource table in MCUSRAM (DA 0x10000000). The resource table announces a carveout for
 * the rpmsg buffers, a trace buffer and an rpmsg vdev with two vrings in the IPC region.
 *
 * It writes "cm4: firmware up" to its trace buffer, then "cm4: tick N" every 65,536 turns of
 * its main loop (the trace buffer is a ring). Built three ways from this one file:
 *   stm32mp15-m4.elf        as above
 *   stm32mp15-m4-ipc.elf    also answers a mailbox in the IPC region (EXAMPLE_IPC): the normal
 *                           world writes a request and its sequence number, the firmware writes
 *                           "cm4: echo <request>" back and copies the sequence number
 *   stm32mp15-m4-crash.elf  after tick EXAMPLE_CRASH_AFTER writes to SYSRAM (0x2FFC0000, the
 *                           secure world's memory, which no firewall grants the coprocessor):
 *                           a bus fault, for the recovery demo
 *   stm32mp15-m4-udf.elf    the crash example with EXAMPLE_CRASH_UDF: an undefined instruction
 *                           (UDF) instead of the store
 *   stm32mp15-m4-watchdog.elf  feeds a watchdog at EXAMPLE_WATCHDOG on every tick (writes the
 *                           STM32 IWDG reload key 0xAAAA), for a board that declares one
 */
#include <stdint.h>
#include "example_trace.h"
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
static struct trace_ring trace = { trace_buffer, sizeof trace_buffer, 0 };

#ifdef EXAMPLE_IPC
/* The mailbox: after the rpmsg buffers (carveout at IPC_BASE + 0x2000, 16 KiB). */
struct mailbox {
    volatile uint32_t request_seq;
    volatile uint32_t reply_seq;
    char request[56];
    char reply[64];
};
#define MAILBOX ((struct mailbox *)(IPC_BASE + 0x6000))

static void serve_mailbox(void) {
    uint32_t seq = MAILBOX->request_seq;
    if (seq == MAILBOX->reply_seq) return;
    const char *prefix = "cm4: echo ";
    uint32_t n = 0;
    while (prefix[n] != 0) { MAILBOX->reply[n] = prefix[n]; n++; }
    for (uint32_t i = 0; i < sizeof MAILBOX->request && MAILBOX->request[i] != 0 && n + 1 < sizeof MAILBOX->reply; i++)
        MAILBOX->reply[n++] = MAILBOX->request[i];
    MAILBOX->reply[n] = 0;
    trace_puts(&trace, "cm4: ipc request ");
    trace_number(&trace, seq);
    trace_puts(&trace, "\n");
    MAILBOX->reply_seq = seq;
}
#endif

void reset_handler(void) {
    uint32_t ticks = 0;
    trace_puts(&trace, "cm4: firmware up\n");
    for (;;) {
        heartbeat++;
        scratch[heartbeat & 63] = heartbeat;
#ifdef EXAMPLE_IPC
        serve_mailbox();
#endif
        if ((heartbeat & 0xFFFF) == 0) {
            ticks++;
            trace_puts(&trace, "cm4: tick ");
            trace_number(&trace, ticks);
            trace_puts(&trace, "\n");
#ifdef EXAMPLE_WATCHDOG
            *(volatile uint32_t *)EXAMPLE_WATCHDOG = 0xAAAAu;
#endif
#ifdef EXAMPLE_CRASH_AFTER
            if (ticks == EXAMPLE_CRASH_AFTER) {
#ifdef EXAMPLE_CRASH_UDF
                trace_puts(&trace, "cm4: executing UDF\n");
                __asm__ volatile("udf #0");
#else
                trace_puts(&trace, "cm4: writing to SYSRAM\n");
                *(volatile uint32_t *)0x2FFC0000u = 0xDEADBEEF;
#endif
            }
#endif
        }
    }
}
