// lint-path: core/store/x.c
#include "core/live/live.h"
