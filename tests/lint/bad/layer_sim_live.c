// lint-path: sim/x.c
#include "core/live/live.h"
