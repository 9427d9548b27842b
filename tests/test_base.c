/* test_base.c: core/base.h's small macros. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/base.h"

static int calls;
static int64_t counted(int64_t v)
{
	calls++;
	return v;
}

/* SY_MIN/SY_MAX evaluate each argument once: a gap computed by a call
 * (the flows' timing once computed one twice and lost it) or an argument
 * with a side effect gives what it says. */
static void test_minmax_once(void **state)
{
	(void)state;
	calls = 0;
	assert_int_equal(SY_MAX(counted(7), counted(3)), 7);
	assert_int_equal(calls, 2);
	calls = 0;
	assert_int_equal(SY_MIN(counted(7), counted(3)), 3);
	assert_int_equal(calls, 2);
	int i = 0;
	assert_int_equal(SY_MAX(i++, -1), 0);
	assert_int_equal(i, 1);
	/* nested, mixed types: the type `a < b` compares in, as before */
	size_t n = 10;
	assert_int_equal(SY_MIN(SY_MAX(n, 4), 64), 10);
	assert_int_equal(SY_MAX((uint8_t)200, 100), 200);
	assert_true(SY_MIN(-1.5, 2) == -1.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minmax_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
