// lint-path: core/sip/x.c
/* The old lint skipped any line starting with '*' as a comment line. */
void f(long *p)
{
	*p = time(NULL);
}
