// lint-path: core/route/x.c
#include <stdio.h>
void *f(void)
{
	return fopen("routes.csv", "r");
}
