/* Test-only stand-in for the Arduino core: just enough Serial for the generated example sketch,
 * printing to stdout. The sketch is compiled as C++, as the Arduino IDE does. */
#ifndef PNETC_TEST_ARDUINO_H
#define PNETC_TEST_ARDUINO_H
#include <stdint.h>
#include <stdio.h>

struct PnetcSerialShim {
    void begin(unsigned long baud) { (void)baud; }
    void print(const char *s) { fputs(s, stdout); }
    void print(int v) { printf("%d", v); }
    void println(const char *s) { printf("%s\n", s); }
};
extern PnetcSerialShim Serial;

void setup();
void loop();
#endif
