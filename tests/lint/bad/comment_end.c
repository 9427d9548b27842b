// lint-path: core/sip/x.c
void f(void)
{
	/* a comment */ int r = rand();
	(void)r;
}
