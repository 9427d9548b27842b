// lint-path: sim/x.c
void f(void)
{
	usleep
	(1000);
}
