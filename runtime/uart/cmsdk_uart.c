/* Transmit-only driver for the Arm CMSDK APB UART (MPS2/MPS3 boards). The console mirrors its
 * lines here when the board file names a CMSDK UART; QEMU shows them on -serial. */
#include <stdint.h>

#include "cmsdk_uart.h"

#define UART_DATA(base) (*(volatile uint32_t *)((base) + 0x000u))
#define UART_STATE(base) (*(volatile uint32_t *)((base) + 0x004u))
#define UART_CTRL(base) (*(volatile uint32_t *)((base) + 0x008u))
#define UART_BAUDDIV(base) (*(volatile uint32_t *)((base) + 0x010u))
#define UART_STATE_TX_FULL 0x1u
#define UART_CTRL_TX_EN 0x1u

void pnet_uart_init(uintptr_t base)
{
    UART_BAUDDIV(base) = 16u; /* the smallest legal divider; QEMU ignores the rate */
    UART_CTRL(base) = UART_CTRL_TX_EN;
}

void pnet_uart_puts(uintptr_t base, const char *s)
{
    while (*s != '\0') {
        while ((UART_STATE(base) & UART_STATE_TX_FULL) != 0u) {
        }
        UART_DATA(base) = (uint32_t)(uint8_t)*s++;
    }
}
