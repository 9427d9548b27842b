// lint-path: core/billing/x.c
#include <time.h>
