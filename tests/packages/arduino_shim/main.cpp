/* Test-only: what the Arduino core does around a sketch, once. */
#include "Arduino.h"

PnetcSerialShim Serial;

int main()
{
    setup();
    loop();
    return 0;
}
