/* pnet_io over ARM semihosting: QEMU opens the files relative to its working directory. */
#include "pnet_io.h"
#include "semihost.h"
#ifdef PNET_UART_CMSDK_BASE
#include "cmsdk_uart.h"
static int uart_ready;
#endif

extern uint32_t __stack_limit;

static int32_t in_handle = -1;
static int32_t out_handle = -1;

int pnet_io_open(void)
{
    in_handle = pnet_sh_open(PNET_INPUT_FILE, PNET_SH_OPEN_RB);
    if (in_handle < 0) {
        pnet_io_console("pnet: cannot open " PNET_INPUT_FILE " through semihosting\n");
        return PNET_EXIT_INPUT;
    }
    out_handle = pnet_sh_open(PNET_OUTPUT_FILE, PNET_SH_OPEN_WB);
    if (out_handle < 0) {
        pnet_io_console("pnet: cannot create " PNET_OUTPUT_FILE " through semihosting\n");
        return PNET_EXIT_OUTPUT;
    }
    return 0;
}

int32_t pnet_io_read(void *buf, size_t n)
{
    return pnet_sh_read(in_handle, buf, n);
}

int pnet_io_write(const char *buf, size_t n)
{
    return pnet_sh_write(out_handle, buf, n) == 0 ? 0 : -1;
}

void pnet_io_console(const char *line)
{
    pnet_sh_puts(line);
#ifdef PNET_UART_CMSDK_BASE
    if (!uart_ready) {
        pnet_uart_init((uintptr_t)PNET_UART_CMSDK_BASE);
        uart_ready = 1;
    }
    pnet_uart_puts((uintptr_t)PNET_UART_CMSDK_BASE, line);
#endif
}

void pnet_io_exit(int code)
{
    if (out_handle >= 0) {
        (void)pnet_sh_close(out_handle);
    }
    if (in_handle >= 0) {
        (void)pnet_sh_close(in_handle);
    }
    pnet_sh_exit(code);
}

uintptr_t pnet_io_stack_limit(uintptr_t sp)
{
    (void)sp;
    return (uintptr_t)&__stack_limit;
}
