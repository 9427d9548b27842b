// lint-path: sim/x.c
void f(void)
{
	pthread_create(0, 0, 0, 0);
}
