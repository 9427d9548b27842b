// lint-path: core/store/x.c
#include "../live/live.h"
