// lint-path: core/x.c
#include "cmd/cmd.h"
