// lint-path: peers/uas.c
#include <stdint.h>
static uint64_t f(void) { return (uint64_t)time(NULL); }
