// lint-path: sim/x.c
#include <sys/random.h>
