/* Benchmark markers watched by the pnetc instruction-count plugin (pnetc/measure/qemu_plugin/insn_count.c).
 *
 * The plugin cannot read registers on QEMU 7.2, so each stage gets its own marker function:
 * pnet_bench_mark(k) calls pnet_bench_stage_k, whose first instruction address tells the plugin
 * which stage starts. The volatile stores keep the bodies distinct (no identical-code folding)
 * and noinline/noipa keep every call real. */
#include <stdint.h>

#define PNET_BENCH_MAX_STAGES 32

void pnet_bench_begin(void);
void pnet_bench_end(void);
void pnet_bench_mark(int stage);

volatile int32_t pnet_bench_last_mark;

__attribute__((noinline, noipa, used)) void pnet_bench_begin(void) { pnet_bench_last_mark = -1; }
__attribute__((noinline, noipa, used)) void pnet_bench_end(void) { pnet_bench_last_mark = -2; }

#define PNET_STAGE_FN(k) \
    __attribute__((noinline, noipa, used)) void pnet_bench_stage_##k(void); \
    void pnet_bench_stage_##k(void) { pnet_bench_last_mark = k; }

PNET_STAGE_FN(0) PNET_STAGE_FN(1) PNET_STAGE_FN(2) PNET_STAGE_FN(3) PNET_STAGE_FN(4)
PNET_STAGE_FN(5) PNET_STAGE_FN(6) PNET_STAGE_FN(7) PNET_STAGE_FN(8) PNET_STAGE_FN(9)
PNET_STAGE_FN(10) PNET_STAGE_FN(11) PNET_STAGE_FN(12) PNET_STAGE_FN(13) PNET_STAGE_FN(14)
PNET_STAGE_FN(15) PNET_STAGE_FN(16) PNET_STAGE_FN(17) PNET_STAGE_FN(18) PNET_STAGE_FN(19)
PNET_STAGE_FN(20) PNET_STAGE_FN(21) PNET_STAGE_FN(22) PNET_STAGE_FN(23) PNET_STAGE_FN(24)
PNET_STAGE_FN(25) PNET_STAGE_FN(26) PNET_STAGE_FN(27) PNET_STAGE_FN(28) PNET_STAGE_FN(29)
PNET_STAGE_FN(30) PNET_STAGE_FN(31)

typedef void (*pnet_stage_fn)(void);
static void (*const stage_fns[PNET_BENCH_MAX_STAGES])(void) = {
    pnet_bench_stage_0, pnet_bench_stage_1, pnet_bench_stage_2, pnet_bench_stage_3,
    pnet_bench_stage_4, pnet_bench_stage_5, pnet_bench_stage_6, pnet_bench_stage_7,
    pnet_bench_stage_8, pnet_bench_stage_9, pnet_bench_stage_10, pnet_bench_stage_11,
    pnet_bench_stage_12, pnet_bench_stage_13, pnet_bench_stage_14, pnet_bench_stage_15,
    pnet_bench_stage_16, pnet_bench_stage_17, pnet_bench_stage_18, pnet_bench_stage_19,
    pnet_bench_stage_20, pnet_bench_stage_21, pnet_bench_stage_22, pnet_bench_stage_23,
    pnet_bench_stage_24, pnet_bench_stage_25, pnet_bench_stage_26, pnet_bench_stage_27,
    pnet_bench_stage_28, pnet_bench_stage_29, pnet_bench_stage_30, pnet_bench_stage_31,
};

__attribute__((noinline, noipa, used)) void pnet_bench_mark(int stage)
{
    if (stage >= 0 && stage < PNET_BENCH_MAX_STAGES) {
        stage_fns[stage]();
    }
}
