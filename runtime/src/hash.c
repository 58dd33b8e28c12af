/* hash.c - fmix32, hash_row, hash32 and FNV-1a (docs/format.md section 1), callable versions.
   32-bit xor/shift/multiply only: no 64-bit helpers on Cortex-M0. */
#include "pnet/pnet.h"

uint32_t pnet_fmix32(uint32_t h)
{
    return pnet_fmix32_inline(h); /* the one body, in pnet.h */
}

uint32_t pnet_hash_row(uint32_t seed, uint32_t a)
{
    return pnet_hash_row_inline(seed, a);
}

uint32_t pnet_hash32(uint32_t seed, uint32_t a, uint32_t b)
{
    return pnet_fmix32(pnet_hash_row(seed, a) ^ (b * PNET_HASH_GOLDEN_B));
}

uint32_t pnet_fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        h = (h ^ (uint32_t)p[i]) * PNET_FNV_PRIME;
    }
    return h;
}
