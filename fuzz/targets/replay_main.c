/* Replay driver: runs LLVMFuzzerTestOneInput on each file named on the command line, printing
 * "input <path>" before the target's own FUZZ_REPLAY output (built without libFuzzer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; ++i) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t *buf;
        long n;
        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        buf = (uint8_t *)malloc((size_t)n + 1);
        if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        fclose(f);
        printf("input %s\n", argv[i]);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        printf("end\n");
        fflush(stdout);
        free(buf);
    }
    return 0;
}
