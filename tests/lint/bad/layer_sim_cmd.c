// lint-path: sim/x.c
#include "cmd/cmd.h"
