// lint-path: core/smpp/x.c
unsigned f(void)
{
	return (unsigned)(clock_gettime)(0, 0);
}
