/*
 * IPCC mailbox example (stm32mp15-m4-mailbox.elf): interrupt-driven, idle in WFI. The IPCC's
 * RX-occupied interrupt (the M4's IPCC_RX1, NVIC line 103) reports each channel the normal
 * world kicked; the handler acknowledges it, writes "mbox: kick on channel N" to the trace and
 * kicks the same channel back toward the normal world ("mbox: shutdown requested" for channel
 * 3, as ST's firmware acknowledges a shutdown). Code in RETRAM, data in MCUSRAM (firmware.ld).
 */
#include <stdint.h>
#include "example_trace.h"
#include "rsc_table.h"

static char trace_buffer[1024];

struct mailbox_resource_table {
    struct resource_table_header header;
    uint32_t offset[1];
    struct fw_rsc_trace trace;
};

__attribute__((section(".resource_table"), used))
const struct mailbox_resource_table resource_table = {
    .header = { .ver = 1, .num = 1 },
    .offset = { __builtin_offsetof(struct mailbox_resource_table, trace) },
    .trace = { .type = RSC_TRACE, .da = (uint32_t)(uintptr_t)trace_buffer, .len = sizeof trace_buffer, .name = "cm4_log" },
};

#define REG(a) (*(volatile uint32_t *)(a))
#define IPCC_BASE 0x4C001000u
#define IPCC_C1TOC2SR REG(IPCC_BASE + 0x0Cu)
#define IPCC_C2CR REG(IPCC_BASE + 0x10u)
#define IPCC_C2MR REG(IPCC_BASE + 0x14u)
#define IPCC_C2SCR REG(IPCC_BASE + 0x18u)
#define IPCC_RX1_IRQ 103u
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))
#define NVIC_IPR(n) (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_VTOR REG(0xE000ED08u)

static struct trace_ring trace = { trace_buffer, sizeof trace_buffer, 0 };

void ipcc_rx_handler(void) {
    uint32_t occupied = IPCC_C1TOC2SR & ~IPCC_C2MR & 0x3Fu;
    for (uint32_t channel = 1; channel <= 6; channel++) {
        uint32_t bit = 1u << (channel - 1);
        if (!(occupied & bit)) continue;
        IPCC_C2SCR = bit;                  /* acknowledge: the line drops when none is left */
        if (channel == 3) {
            trace_puts(&trace, "mbox: shutdown requested\n");
        } else {
            trace_puts(&trace, "mbox: kick on channel ");
            trace_number(&trace, channel);
            trace_puts(&trace, "\n");
        }
        IPCC_C2SCR = bit << 16;            /* kick the same channel back */
    }
}

void default_handler(void) { for (;;) {} }

extern uint32_t _stack_top;
void reset_handler(void);

#define D (uintptr_t)default_handler
__attribute__((section(".isr_vector"), used, aligned(512)))
const uintptr_t vector_table[16 + 104] = {
    [0] = (uintptr_t)&_stack_top, [1] = (uintptr_t)reset_handler,
    [2] = D, [3] = D, [4] = D, [5] = D, [6] = D, [11] = D, [12] = D, [14] = D, [15] = D,
    [16 + IPCC_RX1_IRQ] = (uintptr_t)ipcc_rx_handler,
};

void reset_handler(void) {
    trace_puts(&trace, "mbox: up\n");
    SCB_VTOR = (uint32_t)(uintptr_t)vector_table;
    NVIC_IPR(IPCC_RX1_IRQ) = 0x80;
    NVIC_ISER(IPCC_RX1_IRQ / 32) = 1u << (IPCC_RX1_IRQ % 32);
    IPCC_C2MR = 0;
    IPCC_C2CR = 1;                         /* RXOIE */
    for (;;) __asm__ volatile("wfi");
}
