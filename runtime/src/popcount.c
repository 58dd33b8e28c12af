/* popcount.c - SWAR population count: Cortex-M has no popcount instruction and
   __builtin_popcount would become a libgcc call. Shifts and adds only. */
#include "pnet/pnet.h"

uint32_t pnet_popcount32(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    v = v + (v >> 8);
    v = v + (v >> 16);
    return v & 0x3Fu;
}
