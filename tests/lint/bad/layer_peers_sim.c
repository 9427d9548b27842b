// lint-path: peers/uac.c
#include "sim/sim.h"
