/*
 * Example TF-M-like secure image for the STM32MP25-like board's Cortex-M33: runs in the secure
 * state from secure SRAM, offers one non-secure-callable service, then hands over to the
 * non-secure (Zephyr-like) image whose vector table the manifest names.
 */
#include <arm_cmse.h>
#include <stdint.h>

#define NS_VECTOR_TABLE 0x80000000u

extern uint32_t _stack_top;
void secure_reset(void);

__attribute__((section(".isr_vector"), used))
const uintptr_t secure_vectors[2] = { (uintptr_t)&_stack_top, (uintptr_t)secure_reset };

volatile uint32_t secure_boot_count;
static uint32_t secure_counter;

/* A secure service the non-secure image may call through its veneer. */
__attribute__((cmse_nonsecure_entry)) uint32_t tfm_next_counter(void) {
    return ++secure_counter;
}

typedef void (*ns_entry_t)(void) __attribute__((cmse_nonsecure_call));

void secure_reset(void) {
    secure_boot_count++;
    const uint32_t *ns_vectors = (const uint32_t *)NS_VECTOR_TABLE;
    ns_entry_t ns_reset = (ns_entry_t)cmse_nsfptr_create(ns_vectors[1]);
    ns_reset();
    for (;;) { }
}
