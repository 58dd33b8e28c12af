/* Test-only stand-in for the Arduino core: just enough Serial for the generated example sketch.
 * The sketch is compiled as C++, as the Arduino IDE does; text goes to pnetc_shim_write
 * (stdout on the host, semihosting on the Cortex-M board: see main.cpp). */
#ifndef PNETC_TEST_ARDUINO_H
#define PNETC_TEST_ARDUINO_H
#include <stdint.h>

extern "C" void pnetc_shim_write(const char *s);

struct PnetcSerialShim {
    void begin(unsigned long baud) { (void)baud; }
    void print(const char *s) { pnetc_shim_write(s); }
    void print(int v)
    {
        char buf[16];
        char *p = buf + sizeof buf;
        unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
        *--p = '\0';
        do {
            *--p = (char)('0' + u % 10u);
            u /= 10u;
        } while (u != 0u);
        if (v < 0) {
            *--p = '-';
        }
        pnetc_shim_write(p);
    }
    void println(const char *s)
    {
        pnetc_shim_write(s);
        pnetc_shim_write("\n");
    }
};
extern PnetcSerialShim Serial;

void setup();
void loop();
#endif
