/* Cortex-M startup, shared by every bare-metal board (ARMv6-M, ARMv7-M, ARMv8-M, ARMv8.1-M):
 * the vector table, a reset handler that copies .data, zeroes .bss and enables the FPU, and
 * a fault handler that reports the faulting pc and the fault status, then exits with
 * PNET_EXIT_FAULT through semihosting. No vendor SDK. */
#include <stdint.h>

#include "pnet_io.h"

extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;

int main(void);
void Reset_Handler(void);
void pnet_fault_entry(void);
void pnet_fault_report(const uint32_t *frame, uint32_t ipsr);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

/* gcc -O2 would turn these loops into memcpy/memset calls; keep them plain loops. */
__attribute__((noreturn, used, optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
    uint32_t *src = &__data_load;
    uint32_t *dst = &__data_start;
    while (dst < &__data_end) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start; dst < &__bss_end; dst++) {
        *dst = 0u;
    }
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* CP10 and CP11 full access; without this the first float instruction faults. */
    SCB_CPACR |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    pnet_io_exit(main());
}

/* Every exception lands here: pass the stacked frame (MSP: the firmware never uses PSP)
 * and the exception number to the reporter. */
__attribute__((naked, used)) void pnet_fault_entry(void)
{
    __asm__ volatile(
        "mrs r0, msp\n\t"
        "mrs r1, ipsr\n\t"
        "bl pnet_fault_report\n\t");
}

static char *put_str(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

static char *put_hex(char *p, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    int shift;
    *p++ = '0';
    *p++ = 'x';
    for (shift = 28; shift >= 0; shift -= 4) {
        *p++ = digits[(v >> (unsigned)shift) & 0xFu];
    }
    return p;
}

static const char *exception_name(uint32_t number)
{
    switch (number) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return number >= 16u ? "IRQ" : "exception";
    }
}

__attribute__((noreturn, used)) void pnet_fault_report(const uint32_t *frame, uint32_t ipsr)
{
    char line[192];
    char *p = line;
    uint32_t number = ipsr & 0x1FFu;
    p = put_str(p, "pnet: fault: ");
    p = put_str(p, exception_name(number));
    p = put_str(p, " (exception ");
    p = put_hex(p, number);
    p = put_str(p, ") pc=");
    p = put_hex(p, frame[6]);
    p = put_str(p, " lr=");
    p = put_hex(p, frame[5]);
#if !defined(__ARM_ARCH_6M__) && !defined(__ARM_ARCH_8M_BASE__)
    p = put_str(p, " cfsr=");
    p = put_hex(p, SCB_CFSR);
    p = put_str(p, " hfsr=");
    p = put_hex(p, SCB_HFSR);
    p = put_str(p, " bfar=");
    p = put_hex(p, SCB_BFAR);
    p = put_str(p, " mmfar=");
    p = put_hex(p, SCB_MMFAR);
#endif
    p = put_str(p, "\n");
    *p = '\0';
    pnet_io_console(line);
    pnet_io_exit(PNET_EXIT_FAULT);
}

typedef void (*pnet_vector_t)(void);

/* 16 system entries plus 32 interrupts; nothing is enabled, so any of them is unexpected. */
__attribute__((section(".isr_vector"), used)) const pnet_vector_t pnet_vectors[48] = {
    (pnet_vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, 0, 0, 0,
    pnet_fault_entry, pnet_fault_entry, 0, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry, pnet_fault_entry,
    pnet_fault_entry, pnet_fault_entry,
};
