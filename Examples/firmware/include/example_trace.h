/*
 * The examples' trace buffer writer: text appended to a ring (the remoteproc trace buffer the
 * resource table announces), which the normal world reads through its window.
 */
#ifndef EXAMPLE_TRACE_H
#define EXAMPLE_TRACE_H

#include <stdint.h>

struct trace_ring {
    char *buffer;
    uint32_t size;
    uint32_t pos;
};

static inline void trace_putc(struct trace_ring *t, char c) {
    t->buffer[t->pos % t->size] = c;
    t->pos++;
}

static inline void trace_puts(struct trace_ring *t, const char *s) {
    while (*s) trace_putc(t, *s++);
}

static inline void trace_number(struct trace_ring *t, uint32_t n) {
    char digits[11];
    int i = 0;
    do { digits[i++] = (char)('0' + n % 10); n /= 10; } while (n != 0);
    while (i > 0) trace_putc(t, digits[--i]);
}

#endif
