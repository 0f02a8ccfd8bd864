#ifndef RPROC_TEE_CUNICORN_H
#define RPROC_TEE_CUNICORN_H
/* Unicorn 2.0 (Debian libunicorn-dev): QEMU's CPU core as a library — the emulated Cortex-M of
 * the coprocessor. Only the platform imports it. */
#include <unicorn/unicorn.h>
#endif
