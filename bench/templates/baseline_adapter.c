/* Stand-in adapter of the no-model build that the size delta subtracts: same call, no model. */
#include <stdint.h>

__attribute__((noinline)) int bench_predict(const void *input)
{
    return (int)((const uint8_t *)input)[0];
}
