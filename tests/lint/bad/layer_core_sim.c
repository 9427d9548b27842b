// lint-path: core/sip/x.c
#include "sim/sim.h"
