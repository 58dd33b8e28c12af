/* driver_io.h - stdin/stdout helpers shared by the kernel test drivers (test code only:
   unlike the runtime, drivers may use malloc and stdio). Inputs are little-endian binary
   cases read until EOF; outputs are written raw. */
#ifndef DRIVER_IO_H
#define DRIVER_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DRIVER_IO_PNET
/* Built as bare-metal firmware for a board (tests/runtime/ckernel_harness.py): the cases come from
   pnet_in.bin through the firmware's pnet_io (semihosting), and the output goes to pnet_out.txt
   as hex text. main's return value becomes the exit code (runtime/startup). */
#include "pnet_io.h"
#define DRIVER_FAIL(msg, code) (pnet_io_console(msg), pnet_io_exit(code))
#else
#define DRIVER_FAIL(msg, code) (fputs(msg, stderr), exit(code))
#endif

static unsigned char *io_buf;
static size_t io_len;
static size_t io_pos;

static void io_begin(void)
{
#ifdef DRIVER_IO_PNET
    size_t cap = 1u << 10; /* boards with 16 KB of RAM: grow from small */
#else
    size_t cap = 1u << 16;
#endif
#ifdef DRIVER_IO_PNET
    if (pnet_io_open() != 0) DRIVER_FAIL("driver: cannot open the files\n", 4);
#endif
    io_buf = (unsigned char *)malloc(cap);
    if (io_buf == NULL) DRIVER_FAIL("driver: out of memory\n", 4);
    for (;;) {
        size_t r;
        if (io_len == cap) {
            cap *= 2u;
            io_buf = (unsigned char *)realloc(io_buf, cap);
            if (io_buf == NULL) DRIVER_FAIL("driver: out of memory\n", 4);
        }
#ifdef DRIVER_IO_PNET
        {
            int32_t got = pnet_io_read(io_buf + io_len, cap - io_len);
            if (got < 0) DRIVER_FAIL("driver: read error\n", 4);
            r = (size_t)got;
        }
#else
        r = fread(io_buf + io_len, 1, cap - io_len, stdin);
#endif
        if (r == 0) break;
        io_len += r;
    }
}

static int io_more(void) { return io_pos < io_len; }

/* A fresh, suitably aligned copy of the next n bytes (never NULL). */
static void *io_take(size_t n)
{
    void *p = malloc(n ? n : 1u);
    if (p == NULL) DRIVER_FAIL("driver: out of memory\n", 4);
    if (io_pos + n > io_len) DRIVER_FAIL("driver: input too short\n", 3);
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

#ifdef DRIVER_IO_PNET
static void io_put(const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = (const unsigned char *)p;
    char hex[128];
    size_t i = 0;
    while (i < n) {
        size_t k = 0;
        for (; i < n && k < sizeof hex; ++i, k += 2) {
            hex[k] = digits[b[i] >> 4];
            hex[k + 1] = digits[b[i] & 15u];
        }
        if (pnet_io_write(hex, k) != 0) DRIVER_FAIL("driver: write error\n", 5);
    }
}
#else
static void io_put(const void *p, size_t n) { fwrite(p, 1, n, stdout); }
#endif

static void io_put_i32(int32_t v) { io_put(&v, 4); }

static size_t io_words(int32_t nbits) { return (size_t)((nbits + 31) / 32); }

#endif
