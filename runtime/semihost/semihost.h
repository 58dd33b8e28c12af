/* ARM semihosting (bare-metal Cortex-M): console text, host files and the extended exit.
 * QEMU must run with `-semihosting-config enable=on,target=native`; without it the
 * `bkpt 0xab` locks the core. */
#ifndef PNET_SEMIHOST_H
#define PNET_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#define PNET_SH_OPEN_RB 1u  /* fopen mode "rb" */
#define PNET_SH_OPEN_WB 5u  /* fopen mode "wb" */

int32_t pnet_sh_open(const char *path, uint32_t mode);          /* handle, or -1 */
int32_t pnet_sh_close(int32_t handle);
/* Reads up to n bytes; returns the number of bytes read (0 at end of file), -1 on error. */
int32_t pnet_sh_read(int32_t handle, void *buf, size_t n);
/* Writes n bytes; returns 0 when all were written. */
int32_t pnet_sh_write(int32_t handle, const void *buf, size_t n);
void pnet_sh_puts(const char *s);                                /* console text (QEMU: stderr) */
/* SYS_EXIT_EXTENDED: QEMU exits with exactly this code. */
__attribute__((noreturn)) void pnet_sh_exit(int code);

#endif
