// lint-path: sim/x.c
int f(void)
{
	return socket(2, 2, 0);
}
