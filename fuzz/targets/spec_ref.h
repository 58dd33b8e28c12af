/* The independent reference of the kernel fuzz target, written from docs/format.md (not from
 * runtime/src): one entry at a time, int64 accumulators, no sign-sum identity, no unrolling.
 * build.sh compiles spec_ref.c WITHOUT sanitizers or coverage: it is the oracle, not the code under
 * test, and instrumenting it would spend most of each execution on the oracle. */
#ifndef SPEC_REF_H
#define SPEC_REF_H

#include <stdint.h>

uint32_t spec_fmix32(uint32_t h);
uint32_t spec_hash32(uint32_t seed, uint32_t a, uint32_t b);
/* acc[k] = sum_i s_k(i) x[i] of the dense binary projection; table [num_bits][ceil(n/32)] gets the
   sign words (hash32(seed, k, w), bits past n cleared) for the table kernel. */
void spec_project_binary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int64_t *acc,
                         uint32_t *table);
/* acc[k] of the ternary projection; entries [num_bits][nnz] = index << 1 | (sign < 0). Returns 0, or
   -1 if an index fell outside 0..n-1 (which the spec rules out). */
int spec_project_ternary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int32_t nnz, int64_t *acc,
                         uint16_t *entries);
/* acc[k] += s_k(id) for one text feature id (docs/format.md 3.3). */
void spec_text_add(uint32_t seed, int32_t num_bits, uint32_t id, int64_t *acc);
/* acc[k] += P_k(id) of the presence projection (docs/format.md 3.4), with a 64-bit multiply for
   (hash32(seed, j, id) * num_bits) >> 32. */
void spec_presence_add(uint32_t seed, int32_t num_bits, int32_t hashes, uint32_t id, int64_t *acc);

#endif
