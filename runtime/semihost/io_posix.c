/* pnet_io over stdio, for Linux boards (qemu-user) and the host. */
#include <stdio.h>
#include <stdlib.h>

#include "pnet_io.h"

/* How far below main's frame the stack is painted: well inside the main thread's stack on
 * Linux and under qemu-user, and far more than a ProjectionNet inference uses. */
#define PNET_POSIX_PAINT_BYTES (16u * 1024u)

static FILE *in_file;
static FILE *out_file;

int pnet_io_open(void)
{
    in_file = fopen(PNET_INPUT_FILE, "rb");
    if (in_file == NULL) {
        pnet_io_console("pnet: cannot open " PNET_INPUT_FILE "\n");
        return PNET_EXIT_INPUT;
    }
    out_file = fopen(PNET_OUTPUT_FILE, "wb");
    if (out_file == NULL) {
        pnet_io_console("pnet: cannot create " PNET_OUTPUT_FILE "\n");
        return PNET_EXIT_OUTPUT;
    }
    return 0;
}

int32_t pnet_io_read(void *buf, size_t n)
{
    size_t got = fread(buf, 1, n, in_file);
    if (got < n && ferror(in_file)) {
        return -1;
    }
    return (int32_t)got;
}

int pnet_io_write(const char *buf, size_t n)
{
    return fwrite(buf, 1, n, out_file) == n ? 0 : -1;
}

void pnet_io_console(const char *line)
{
    fputs(line, stderr);
}

void pnet_io_exit(int code)
{
    if (out_file != NULL && fclose(out_file) != 0 && code == 0) {
        code = PNET_EXIT_OUTPUT;
    }
    if (in_file != NULL) {
        fclose(in_file);
    }
    exit(code);
}

uintptr_t pnet_io_stack_limit(uintptr_t sp)
{
    return sp - PNET_POSIX_PAINT_BYTES;
}
