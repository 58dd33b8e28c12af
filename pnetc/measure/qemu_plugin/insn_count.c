/* pnetc instruction counter: a QEMU TCG plugin (plugin API version 1, QEMU 7.2 and later).
 *
 * It counts every executed guest instruction with an inline add and puts an exec callback
 * on the first instruction of the marker functions (runtime/markers/bench_mark.c). Each
 * pnet_bench_begin .. pnet_bench_end window becomes one line in the output file:
 *
 *     W <instructions from begin to end> <stage>:<offset from begin> ...
 *
 * Arguments: syms=<file> with lines "begin <hex addr>", "end <hex addr>", "stage <k> <hex addr>";
 * out=<file>. Debian ships QEMU without qemu-plugin.h, so the few API functions used are
 * declared here. Built by pnetc with the host cc (pnetc/measure/plugin.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_MARKS 64
#define MARK_BEGIN (-1)
#define MARK_END (-2)
#define MAX_EVENTS 64

struct mark {
    uint64_t addr;
    intptr_t kind; /* MARK_BEGIN, MARK_END, or a stage number >= 0 */
};

static struct mark marks[MAX_MARKS];
static int n_marks;
static uint64_t insn_count; /* one vCPU: the firmware is single-threaded */
static uint64_t window_start;
static bool in_window;
static int n_events;
static int event_stage[MAX_EVENTS];
static uint64_t event_offset[MAX_EVENTS];
static FILE *out;

static void on_mark(unsigned int vcpu_index, void *userdata)
{
    intptr_t kind = (intptr_t)userdata;
    (void)vcpu_index;
    if (kind == MARK_BEGIN) {
        window_start = insn_count;
        in_window = true;
        n_events = 0;
    } else if (kind == MARK_END) {
        if (in_window) {
            int i;
            fprintf(out, "W %llu", (unsigned long long)(insn_count - window_start));
            for (i = 0; i < n_events; i++) {
                fprintf(out, " %d:%llu", event_stage[i], (unsigned long long)event_offset[i]);
            }
            fputc('\n', out);
            fflush(out);
        }
        in_window = false;
    } else if (in_window && n_events < MAX_EVENTS) {
        event_stage[n_events] = (int)kind;
        event_offset[n_events] = insn_count - window_start;
        n_events++;
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    int m;
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        /* The callback first, then the count: a marker sees the count before its own instruction. */
        for (m = 0; m < n_marks; m++) {
            if (marks[m].addr == vaddr) {
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS,
                                                       (void *)marks[m].kind);
            }
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    if (out != NULL) {
        fprintf(out, "T %llu\n", (unsigned long long)insn_count);
        fclose(out);
        out = NULL;
    }
}

static int load_symbols(const char *path)
{
    char line[256];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pnetc plugin: cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL && n_marks < MAX_MARKS) {
        unsigned long long addr;
        int stage;
        if (sscanf(line, "begin %llx", &addr) == 1) {
            marks[n_marks].addr = addr;
            marks[n_marks++].kind = MARK_BEGIN;
        } else if (sscanf(line, "end %llx", &addr) == 1) {
            marks[n_marks].addr = addr;
            marks[n_marks++].kind = MARK_END;
        } else if (sscanf(line, "stage %d %llx", &stage, &addr) == 2 && stage >= 0) {
            marks[n_marks].addr = addr;
            marks[n_marks++].kind = stage;
        }
    }
    fclose(f);
    return 0;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    const char *syms = NULL;
    const char *out_path = NULL;
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "arg=", 4) == 0) { /* the older "-plugin lib.so,arg=key=value" form */
            a += 4;
        }
        if (strncmp(a, "syms=", 5) == 0) {
            syms = a + 5;
        } else if (strncmp(a, "out=", 4) == 0) {
            out_path = a + 4;
        }
    }
    if (syms == NULL || out_path == NULL) {
        fprintf(stderr, "pnetc plugin: needs syms=<file> and out=<file>\n");
        return -1;
    }
    if (load_symbols(syms) != 0) {
        return -1;
    }
    out = fopen(out_path, "w");
    if (out == NULL) {
        fprintf(stderr, "pnetc plugin: cannot write %s\n", out_path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
