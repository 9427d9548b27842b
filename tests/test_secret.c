/* test_secret.c: stored secrets (core/sec/secret.h). Expected hashes were
 * computed independently with Python's hashlib (pbkdf2_hmac, sha256). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/sec/secret.h"

#define PW "correct horse"
#define SALT_HEX "00112233445566778899aabbccddeeff"
#define PB_HASH "4c5805526868c915a4cba43d75ec6b0a07152bb7b9ca30501c96ea0f91886829"
#define PB "$pbkdf2-sha256$1000$" SALT_HEX "$" PB_HASH
#define TOK_SHA "$sha256$d56c74c3c8b871534cf3f2eb85093baf068da820d94b50b9edd42c679f421939"

static bool check(const char *stored, const char *given)
{
	struct sy_secret s;
	assert_int_equal(sy_secret_parse(&s, stored, strlen(stored), NULL, 0), SY_OK);
	return sy_secret_check(&s, given, strlen(given));
}

static void test_forms(void **state)
{
	assert_true(check(PB, PW));
	assert_false(check(PB, "correct horsE"));
	assert_false(check(PB, ""));
	assert_true(check(TOK_SHA, "tok-3f9a"));
	assert_false(check(TOK_SHA, "tok-3f9b"));
	assert_true(check("s3cret", "s3cret"));
	assert_false(check("s3cret", "s3cre"));
	assert_false(check("s3cret", "s3cret "));
	assert_false(check("s3cret", ""));
	/* A hash given as the password is only a string. */
	assert_false(check(TOK_SHA, TOK_SHA));
}

static void test_format(void **state)
{
	uint8_t salt[16];
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)(i * 0x11);
	char out[200];
	size_t n = sy_secret_format(out, sizeof(out), PW, strlen(PW), salt, sizeof(salt), 1000);
	assert_int_equal(n, strlen(PB));
	assert_string_equal(out, PB);
	n = sy_secret_format(out, sizeof(out), "tok-3f9a", 8, NULL, 0, 0);
	assert_string_equal(out, TOK_SHA);
	assert_int_equal(sy_secret_format(out, sizeof(out), PW, strlen(PW), salt, 4, 1000), 0); /* salt too short */
	assert_int_equal(sy_secret_format(out, 20, PW, strlen(PW), salt, 16, 1000), 0);	   /* no room */
}

static void test_refused(void **state)
{
	static const char *bad[] = {
	    "",
	    "$pbkdf2-sha256$999$" SALT_HEX "$" PB_HASH,	       /* too few iterations */
	    "$pbkdf2-sha256$1000$0011$" PB_HASH,	       /* salt too short */
	    "$pbkdf2-sha256$1000$" SALT_HEX "$" PB_HASH "00", /* hash too long */
	    "$pbkdf2-sha256$1000$" SALT_HEX "$zz" PB_HASH,   /* not hex */
	    "$pbkdf2-sha256$x$" SALT_HEX "$" PB_HASH,
	    "$sha256$abcd",
	    "$md5$abcd",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sy_secret s;
		char err[120] = "";
		assert_int_equal(sy_secret_parse(&s, bad[i], strlen(bad[i]), err, sizeof(err)), SY_ERR_INVAL);
		assert_true(err[0] != '\0');
		assert_false(sy_secret_check(&s, "", 0));
	}
}

static void test_ct_equal(void **state)
{
	assert_true(sy_ct_equal("abc", "abc", 3));
	assert_false(sy_ct_equal("abc", "abd", 3));
	assert_true(sy_ct_equal("", "x", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_ct_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
