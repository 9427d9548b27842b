// lint-path: sim/x.c
void f(void)
{
	sleep(1);
}
