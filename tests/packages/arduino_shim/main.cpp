/* Test-only: what the Arduino core does around a sketch, once. */
#include "Arduino.h"

PnetcSerialShim Serial;

#ifdef PNET_BARE_METAL
extern "C" {
#include "semihost.h" /* a C header without its own extern "C" */
}
extern "C" void pnetc_shim_write(const char *s) { pnet_sh_puts(s); }
#else
#include <stdio.h>
extern "C" void pnetc_shim_write(const char *s) { fputs(s, stdout); }
#endif

int main()
{
    setup();
    loop();
    return 0;
}
