// lint-path: core/conf/x.c
#include <stdlib.h>
const char *f(void)
{
	return getenv("SEED");
}
