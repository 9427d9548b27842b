// lint-path: sim/x.c
#include <stdio.h>
#include <sys/stat.h>
#include "core/base.h"
#include "sim/sim.h"
void f(void)
{
	FILE *o = fopen("report.txt", "w");
	fclose(o);
}
