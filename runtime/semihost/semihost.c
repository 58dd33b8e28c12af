/* ARM semihosting calls for Cortex-M: `bkpt 0xab` with the operation in r0, the argument block in r1. */
#include "semihost.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define SYS_EXIT 0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static size_t cstrlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

int32_t pnet_sh_open(const char *path, uint32_t mode)
{
    uint32_t block[3] = {(uint32_t)(uintptr_t)path, mode, (uint32_t)cstrlen(path)};
    return semihost_call(SYS_OPEN, block);
}

int32_t pnet_sh_close(int32_t handle)
{
    uint32_t block[1] = {(uint32_t)handle};
    return semihost_call(SYS_CLOSE, block);
}

int32_t pnet_sh_read(int32_t handle, void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    int32_t not_read = semihost_call(SYS_READ, block);  /* returns the bytes NOT read */
    if (not_read < 0 || (size_t)not_read > n) {
        return -1;
    }
    return (int32_t)(n - (size_t)not_read);
}

int32_t pnet_sh_write(int32_t handle, const void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return semihost_call(SYS_WRITE, block);  /* bytes NOT written: 0 on success */
}

void pnet_sh_puts(const char *s)
{
    (void)semihost_call(SYS_WRITE0, s);
}

void pnet_sh_exit(int code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    (void)semihost_call(SYS_EXIT_EXTENDED, block);
    /* A debugger without SYS_EXIT_EXTENDED: fall back to plain SYS_EXIT (only 0/1 survive). */
    (void)semihost_call(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20023u));
    for (;;) {
    }
}
