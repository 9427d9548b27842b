// lint-path: core/route/x.c
#include <unistd.h>
