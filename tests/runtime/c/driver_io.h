/* driver_io.h - stdin/stdout helpers shared by the kernel test drivers (test code only:
   unlike the runtime, drivers may use malloc and stdio). Inputs are little-endian binary
   cases read until EOF; outputs are written raw. */
#ifndef DRIVER_IO_H
#define DRIVER_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *io_buf;
static size_t io_len;
static size_t io_pos;

static void io_begin(void)
{
    size_t cap = 1u << 16;
    io_buf = (unsigned char *)malloc(cap);
    if (io_buf == NULL) exit(4);
    for (;;) {
        size_t r;
        if (io_len == cap) {
            cap *= 2u;
            io_buf = (unsigned char *)realloc(io_buf, cap);
            if (io_buf == NULL) exit(4);
        }
        r = fread(io_buf + io_len, 1, cap - io_len, stdin);
        if (r == 0) break;
        io_len += r;
    }
}

static int io_more(void) { return io_pos < io_len; }

/* A fresh, suitably aligned copy of the next n bytes (never NULL). */
static void *io_take(size_t n)
{
    void *p = malloc(n ? n : 1u);
    if (p == NULL) exit(4);
    if (io_pos + n > io_len) {
        fprintf(stderr, "driver: input too short\n");
        exit(3);
    }
    memcpy(p, io_buf + io_pos, n);
    io_pos += n;
    return p;
}

static int32_t io_i32(void)
{
    int32_t v;
    void *p = io_take(4);
    memcpy(&v, p, 4);
    free(p);
    return v;
}

static uint32_t io_u32(void) { return (uint32_t)io_i32(); }

static void io_put(const void *p, size_t n) { fwrite(p, 1, n, stdout); }

static void io_put_i32(int32_t v) { io_put(&v, 4); }

static size_t io_words(int32_t nbits) { return (size_t)((nbits + 31) / 32); }

#endif
