/* See spec_ref.h. Straight from docs/format.md sections 1 and 3. */
#include "spec_ref.h"

uint32_t spec_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

uint32_t spec_hash32(uint32_t seed, uint32_t a, uint32_t b)
{
    return spec_fmix32(spec_fmix32(seed ^ (a * 0x9E3779B1u)) ^ (b * 0x85EBCA77u));
}

void spec_project_binary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int64_t *acc,
                         uint32_t *table)
{
    const int32_t nw = (n + 31) / 32;
    int32_t k, i;
    for (k = 0; k < num_bits; ++k) {
        uint32_t *row = table + (int64_t)k * nw;
        acc[k] = 0;
        for (i = 0; i < nw; ++i) {
            row[i] = spec_hash32(seed, (uint32_t)k, (uint32_t)i); /* one hash gives 32 signs */
        }
        for (i = 0; i < n; ++i) {
            acc[k] += ((row[i >> 5] >> (i & 31)) & 1u) ? x[i] : -x[i];
        }
        if (n % 32 != 0) {
            row[nw - 1] &= (1u << (n % 32)) - 1u;
        }
    }
}

int spec_project_ternary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int32_t nnz, int64_t *acc,
                         uint16_t *entries)
{
    int32_t k, j;
    for (k = 0; k < num_bits; ++k) {
        acc[k] = 0;
        for (j = 0; j < nnz; ++j) {
            const uint32_t h = spec_hash32(seed, (uint32_t)k, (uint32_t)(j >> 1));
            const uint32_t half = (h >> (16 * (j & 1))) & 0xFFFFu;
            const int32_t index = (int32_t)(((half >> 1) * (uint32_t)n) >> 15);
            const int32_t sign = (half & 1u) ? -1 : 1;
            if (index < 0 || index >= n) {
                return -1;
            }
            acc[k] += sign * x[index];
            entries[(int64_t)k * nnz + j] = (uint16_t)((uint32_t)index << 1 | (sign < 0 ? 1u : 0u));
        }
    }
    return 0;
}

void spec_text_add(uint32_t seed, int32_t num_bits, uint32_t id, int64_t *acc)
{
    uint32_t h = 0;
    int32_t k;
    for (k = 0; k < num_bits; ++k) {
        if ((k & 31) == 0) {
            h = spec_hash32(seed, (uint32_t)(k >> 5), id);
        }
        acc[k] += ((h >> (k & 31)) & 1u) ? 1 : -1;
    }
}

void spec_presence_add(uint32_t seed, int32_t num_bits, int32_t hashes, uint32_t id, int64_t *acc)
{
    int32_t j;
    for (j = 0; j < hashes; ++j) {
        const uint64_t h = spec_hash32(seed, (uint32_t)j, id);
        acc[(uint32_t)((h * (uint64_t)num_bits) >> 32)] += 1;
    }
}
