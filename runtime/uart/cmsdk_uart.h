#ifndef PNET_CMSDK_UART_H
#define PNET_CMSDK_UART_H
#include <stdint.h>
void pnet_uart_init(uintptr_t base);
void pnet_uart_puts(uintptr_t base, const char *s);
#endif
