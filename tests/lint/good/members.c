// lint-path: core/x.c
struct ops {
	unsigned long (*time)(void *ctx);
	int (*bind)(void *st, const void *rec);
	int (*write)(void *arg, const void *rec);
};
unsigned long f(struct ops *o, struct ops v)
{
	return o->time(0) + v.time(0) + (unsigned long)o->bind(0, 0) + (unsigned long)(*o->write)(0, 0);
}
