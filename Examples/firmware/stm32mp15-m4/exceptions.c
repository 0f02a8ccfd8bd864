/*
 * Cortex-M exception test firmware (stm32mp15-m4-exceptions.elf): drives the host's exception
 * model (NVIC, SCB, SysTick, SVC, PendSV, EXC_RETURN, MSP/PSP) the way an RTOS does, and writes
 * what it saw to its trace buffer, one line per check, for the emulated core's tests:
 *
 *   exc: svc 7                    an SVC handler ran and read the SVC's argument from the frame
 *   exc: pendsv                   ICSR.PENDSVSET took PendSV
 *   exc: irq 5 nested 6           IRQ 5's handler pended IRQ 6 of a higher priority: it preempted
 *   exc: tail 6 5                 both pended under PRIMASK: taken in priority order on release
 *   exc: basepri held / released  BASEPRI masked an IRQ of its priority, then let it in
 *   exc: stir 9                   the software trigger register pended IRQ 9
 *   exc: tasks a b a b            PendSV switched two PSP tasks (an RTOS's context switch)
 *   exc: systick N                SysTick interrupts counted while the core sat in WFI
 *   exc: done                     then WFI for good: idle until IRQ 9 comes from outside,
 *   exc: woken by irq 9           which its handler reports
 *
 * Built with -DEXCEPTIONS_BUSY as stm32mp15-m4-systick.elf: a busy loop under SysTick, for the
 * core benchmark. Code in RETRAM (DA 0x0), data, stacks and the trace buffer in MCUSRAM, as
 * firmware.ld.
 */
#include <stdint.h>
#include "example_trace.h"
#include "rsc_table.h"

static char trace_buffer[1024];

struct exceptions_resource_table {
    struct resource_table_header header;
    uint32_t offset[1];
    struct fw_rsc_trace trace;
};

__attribute__((section(".resource_table"), used))
const struct exceptions_resource_table resource_table = {
    .header = { .ver = 1, .num = 1 },
    .offset = { __builtin_offsetof(struct exceptions_resource_table, trace) },
    .trace = { .type = RSC_TRACE, .da = (uint32_t)(uintptr_t)trace_buffer, .len = sizeof trace_buffer, .name = "cm4_log" },
};

#define REG(a) (*(volatile uint32_t *)(a))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define NVIC_ISER0 REG(0xE000E100u)
#define NVIC_ISPR0 REG(0xE000E200u)
#define NVIC_IPR(n) (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_VTOR REG(0xE000ED08u)
#define SCB_SHPR3 REG(0xE000ED20u)
#define NVIC_STIR REG(0xE000EF00u)

static struct trace_ring trace = { trace_buffer, sizeof trace_buffer, 0 };
static volatile uint32_t order[4], order_count;
static volatile uint32_t svc_argument, systicks, irq9_count, irq7_count;
/* Read by PendSV's assembly. */
__attribute__((used)) static volatile uint32_t pendsv_count;
__attribute__((used)) static volatile int switching;

static void line(const char *text) { trace_puts(&trace, text); }

/* SVC: the immediate of the `svc` instruction before the stacked return address. */
__attribute__((used)) void svc_dispatch(uint32_t *frame) {
    uint16_t instruction = *(uint16_t *)(frame[6] - 2);
    svc_argument = instruction & 0xFF;
}

__attribute__((naked)) void svc_handler(void) {
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b svc_dispatch\n");
}

/* Two tasks on PSP, switched by PendSV: r4–r11 saved on the task's stack, as an RTOS does. */
static uint32_t task_stacks[2][128];
static uint32_t *task_sp[2];
static volatile uint32_t current_task;
static char task_trace[8];
static volatile uint32_t task_trace_len;

__attribute__((used)) uint32_t *switch_context(uint32_t *sp) {
    task_sp[current_task] = sp;
    current_task ^= 1;
    return task_sp[current_task];
}

__attribute__((naked)) void pendsv_handler(void) {
    __asm__ volatile(
        "ldr r0, =switching\n"
        "ldr r0, [r0]\n"
        "cbz r0, 1f\n"
        "mrs r0, psp\n"
        "stmdb r0!, {r4-r11}\n"
        "push {lr}\n"
        "bl switch_context\n"
        "pop {lr}\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "bx lr\n"
        "1:\n"
        "ldr r0, =pendsv_count\n"
        "ldr r1, [r0]\n"
        "adds r1, #1\n"
        "str r1, [r0]\n"
        "bx lr\n");
}

static void yield(void) {
    SCB_ICSR = 1u << 28;
    __asm__ volatile("dsb\nisb" ::: "memory");
}

static void finish(void);

static void task(uint32_t name) {
    for (int i = 0; i < 2; i++) {
        task_trace[task_trace_len++] = (char)name;
        yield();
    }
    if (name == 'b') finish();
    for (;;) yield();
}

static void task_a(void) { task('a'); }
static void task_b(void) { task('b'); }

/* A task's first context: the exception frame PendSV pops (xPSR with T, PC = entry), under the
 * eight words of r4–r11. */
static uint32_t *initial_stack(uint32_t *top, void (*entry)(void)) {
    uint32_t *sp = top - 16;
    for (int i = 0; i < 16; i++) sp[i] = 0;
    sp[8 + 5] = 0xFFFFFFFFu;           /* LR: a task never returns */
    sp[8 + 6] = (uint32_t)(uintptr_t)entry & ~1u;
    sp[8 + 7] = 1u << 24;
    return sp;
}

void systick_handler(void) { systicks++; }

void irq5_handler(void) {
    order[order_count++] = 5;
    NVIC_ISPR0 = 1u << 6;                /* IRQ 6, a higher priority: preempts right here */
    __asm__ volatile("dsb\nisb" ::: "memory");
    order[order_count++] = 50;
}

void irq6_handler(void) { order[order_count++] = 6; }
void irq7_handler(void) { irq7_count++; }
static volatile int finished;
void irq9_handler(void) {
    irq9_count++;
    if (finished) line("exc: woken by irq 9\n");
}

void default_handler(void) { line("exc: unexpected exception\n"); for (;;) {} }

extern uint32_t _stack_top;
void reset_handler(void);

#define D (uintptr_t)default_handler
__attribute__((section(".isr_vector"), used, aligned(512)))
const uintptr_t vector_table[16 + 16] = {
    (uintptr_t)&_stack_top, (uintptr_t)reset_handler, D, D, D, D, D, D, D, D, D,
    (uintptr_t)svc_handler, D, D, (uintptr_t)pendsv_handler, (uintptr_t)systick_handler,
    D, D, D, D, D, (uintptr_t)irq5_handler, (uintptr_t)irq6_handler, (uintptr_t)irq7_handler,
    D, (uintptr_t)irq9_handler, D, D, D, D, D, D,
};

static void number_line(const char *text, uint32_t n) {
    line(text);
    trace_number(&trace, n);
    line("\n");
}

#ifdef EXCEPTIONS_BUSY
/* stm32mp15-m4-systick.elf: the main loop of the example firmware while SysTick interrupts it
 * every 10,000 instructions — what the core benchmark measures against the bare loop. */
static volatile uint32_t busy[64];
void reset_handler(void) {
    uint32_t turns = 0, reported = 0;
    line("exc: busy\n");
    SCB_VTOR = (uint32_t)(uintptr_t)vector_table;
    SYST_RVR = 9999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    for (;;) {
        turns++;
        busy[turns & 63] = turns;
        if (systicks >= reported + 1000) {
            reported = systicks;
            number_line("exc: systicks ", reported);
        }
    }
}
#else
void reset_handler(void) {
    line("exc: up\n");
    SCB_VTOR = (uint32_t)(uintptr_t)vector_table;
    SCB_SHPR3 = (0xF0u << 16) | (0x80u << 24);   /* PendSV lowest, SysTick in the middle */

    __asm__ volatile("svc #7" ::: "memory");
    number_line("exc: svc ", svc_argument);

    yield();
    if (pendsv_count == 1) line("exc: pendsv\n");

    /* Preemption: IRQ 6 (priority 0x40) over IRQ 5 (0x80). */
    NVIC_IPR(5) = 0x80;
    NVIC_IPR(6) = 0x40;
    NVIC_ISER0 = (1u << 5) | (1u << 6) | (1u << 7) | (1u << 9);
    NVIC_ISPR0 = 1u << 5;
    __asm__ volatile("dsb\nisb" ::: "memory");
    if (order_count == 3 && order[0] == 5 && order[1] == 6 && order[2] == 50) line("exc: irq 5 nested 6\n");

    /* Tail-chaining in priority order: both pended while masked. */
    order_count = 0;
    __asm__ volatile("cpsid i" ::: "memory");
    NVIC_ISPR0 = (1u << 5) | (1u << 6);
    if (order_count == 0) {
        __asm__ volatile("cpsie i\ndsb\nisb" ::: "memory");
        if (order_count >= 2 && order[0] == 6 && order[1] == 5) line("exc: tail 6 5\n");
    }

    /* BASEPRI 0x80 holds back IRQ 7 of priority 0x80; 0 lets it in. */
    NVIC_IPR(7) = 0x80;
    __asm__ volatile("msr basepri, %0" :: "r"(0x80u) : "memory");
    NVIC_ISPR0 = 1u << 7;
    __asm__ volatile("dsb\nisb" ::: "memory");
    if (irq7_count == 0) line("exc: basepri held\n");
    __asm__ volatile("msr basepri, %0\ndsb\nisb" :: "r"(0u) : "memory");
    if (irq7_count == 1) line("exc: basepri released\n");

    NVIC_STIR = 9;
    __asm__ volatile("dsb\nisb" ::: "memory");
    number_line("exc: stir ", irq9_count == 1 ? 9 : 0);

    /* Two tasks on PSP, started as an RTOS starts its first: Thread mode switches to PSP on
     * task a's stack and calls it; PendSV switches from then on. */
    task_sp[0] = initial_stack(&task_stacks[0][128], task_a);
    task_sp[1] = initial_stack(&task_stacks[1][128], task_b);
    current_task = 0;
    switching = 1;
    __asm__ volatile(
        "msr psp, %0\n"
        "movs r0, #2\n"
        "msr control, r0\n"
        "isb\n"
        :: "r"(&task_stacks[0][128]) : "r0", "memory");
    task_a();
}
#endif

/* Task b, once both tasks have run twice: the rest on its stack, PendSV no longer switching. */
static void finish(void) {
    switching = 0;
    line("exc: tasks");
    for (uint32_t i = 0; i < task_trace_len; i++) { trace_putc(&trace, ' '); trace_putc(&trace, task_trace[i]); }
    line("\n");
    /* SysTick every 10,000 instructions; the core sleeps in WFI between its interrupts. */
    SYST_RVR = 9999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    while (systicks < 5) __asm__ volatile("wfi");
    SYST_CSR = 0;
    number_line("exc: systick ", systicks);
    line("exc: done\n");
    finished = 1;
    for (;;) __asm__ volatile("wfi");   /* idle until an interrupt from outside (IRQ 9) */
}
