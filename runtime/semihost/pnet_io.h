/* The firmware's view of the outside world: one input file, one output file, a console line,
 * an exit code, and the stack region it may paint. Implemented with semihosting on bare-metal
 * boards (io_semihost.c) and with stdio on Linux / host (io_posix.c).
 *
 * Exit codes (docs/boards.md): 0 done, 3 CPU fault, 4 cannot open the input file,
 * 5 cannot open or write the output file, 6 a malformed or too long input record. */
#ifndef PNET_IO_H
#define PNET_IO_H

#include <stddef.h>
#include <stdint.h>

#define PNET_EXIT_OK 0
#define PNET_EXIT_FAULT 3
#define PNET_EXIT_INPUT 4
#define PNET_EXIT_OUTPUT 5
#define PNET_EXIT_RECORD 6

#define PNET_INPUT_FILE "pnet_in.bin"
#define PNET_OUTPUT_FILE "pnet_out.txt"

int pnet_io_open(void);                         /* 0 on success, else an exit code */
int32_t pnet_io_read(void *buf, size_t n);      /* bytes read; 0 at end of file; < 0 on error */
int pnet_io_write(const char *buf, size_t n);   /* 0 on success */
void pnet_io_console(const char *line);         /* a line of text for the person running it */
__attribute__((noreturn)) void pnet_io_exit(int code);

/* Stack painting: the lowest address the firmware's stack may reach. */
uintptr_t pnet_io_stack_limit(uintptr_t sp);

/* The current stack pointer, read without a call (a call would itself use stack). */
#if defined(__aarch64__) || defined(__arm__)
#define PNET_READ_SP(var) __asm__ volatile("mov %0, sp" : "=r"(var))
#elif defined(__x86_64__)
#define PNET_READ_SP(var) __asm__ volatile("mov %%rsp, %0" : "=r"(var))
#elif defined(__i386__)
#define PNET_READ_SP(var) __asm__ volatile("mov %%esp, %0" : "=r"(var))
#else
#define PNET_READ_SP(var) do { volatile uint8_t pnet_sp_probe_; (var) = (uintptr_t)&pnet_sp_probe_ - 64u; } while (0)
#endif

#endif
