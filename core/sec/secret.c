/* secret.c: stored passwords and tokens, checked in constant time
 * (secret.h). OpenSSL does the hashing: PKCS5_PBKDF2_HMAC and SHA256. */
#include "core/sec/secret.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define PBKDF2_TAG "$pbkdf2-sha256$"
#define SHA256_TAG "$sha256$"

bool sy_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

static enum sy_rc fail(char *err, size_t cap, const char *why)
{
	if (err != NULL && cap > 0)
		snprintf(err, cap, "%s", why);
	return SY_ERR_INVAL;
}

/* $pbkdf2-sha256$ITER$SALT$HASH, the tag already matched. */
static enum sy_rc parse_pbkdf2(struct sy_secret *out, const char *p, const char *end, char *err, size_t cap)
{
	uint64_t iter = 0;
	while (p < end && *p >= '0' && *p <= '9' && iter <= 10000000)
		iter = iter * 10 + (uint64_t)(*p++ - '0');
	if (p >= end || *p != '$' || iter < 1000 || iter > 10000000)
		return fail(err, cap, "pbkdf2-sha256: iterations must be 1000..10000000");
	const char *salt = ++p;
	while (p < end && *p != '$')
		p++;
	size_t salt_hex = (size_t)(p - salt);
	if (p >= end || salt_hex < 16 || salt_hex > 2 * SY_SECRET_SALT_MAX || salt_hex % 2 != 0 ||
	    !sy_unhex(salt, salt_hex, out->salt, salt_hex / 2))
		return fail(err, cap, "pbkdf2-sha256: the salt must be 8..32 bytes in hex");
	p++;
	if (!sy_unhex(p, (size_t)(end - p), out->hash, sizeof(out->hash)))
		return fail(err, cap, "pbkdf2-sha256: the hash must be 32 bytes in hex");
	out->kind = SY_SECRET_PBKDF2;
	out->iter = (uint32_t)iter;
	out->salt_len = (uint8_t)(salt_hex / 2);
	return SY_OK;
}

enum sy_rc sy_secret_parse(struct sy_secret *out, const char *text, size_t len, char *err, size_t errcap)
{
	*out = (struct sy_secret){0};
	if (len == 0)
		return fail(err, errcap, "empty: a password or token must not be empty");
	const char *end = text + len;
	size_t tp = strlen(PBKDF2_TAG), ts = strlen(SHA256_TAG);
	if (len > tp && memcmp(text, PBKDF2_TAG, tp) == 0)
		return parse_pbkdf2(out, text + tp, end, err, errcap);
	if (len > ts && memcmp(text, SHA256_TAG, ts) == 0) {
		if (!sy_unhex(text + ts, len - ts, out->hash, sizeof(out->hash)))
			return fail(err, errcap, "sha256: the hash must be 32 bytes in hex");
		out->kind = SY_SECRET_SHA256;
		return SY_OK;
	}
	if (text[0] == '$')
		return fail(err, errcap, "unknown hash (use $pbkdf2-sha256$ or $sha256$, see switchyard passwd)");
	SHA256((const unsigned char *)text, len, out->hash);
	out->kind = SY_SECRET_PLAIN;
	return SY_OK;
}

static bool pbkdf2(uint8_t out[32], const void *pw, size_t len, const uint8_t *salt, size_t salt_len, uint32_t iter)
{
	return PKCS5_PBKDF2_HMAC(pw, (int)len, salt, (int)salt_len, (int)iter, EVP_sha256(), 32, out) == 1;
}

bool sy_secret_check(const struct sy_secret *s, const void *given, size_t len)
{
	uint8_t h[32];
	switch (s->kind) {
	case SY_SECRET_PLAIN:
	case SY_SECRET_SHA256:
		SHA256(given, len, h);
		return sy_ct_equal(h, s->hash, sizeof(h));
	case SY_SECRET_PBKDF2:
		return pbkdf2(h, given, len, s->salt, s->salt_len, s->iter) && sy_ct_equal(h, s->hash, sizeof(h));
	case SY_SECRET_NONE:
		break;
	}
	return false;
}

size_t sy_secret_format(char *out, size_t cap, const void *password, size_t len, const uint8_t *salt, size_t salt_len,
			uint32_t iter)
{
	uint8_t h[32];
	char salt_hex[2 * SY_SECRET_SALT_MAX + 1], hash_hex[65];
	if (salt_len == 0) {
		SHA256(password, len, h);
		sy_hex(hash_hex, h, 32);
		int n = snprintf(out, cap, SHA256_TAG "%s", hash_hex);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	}
	if (salt_len < 8 || salt_len > SY_SECRET_SALT_MAX || iter < 1000 || iter > 10000000 ||
	    !pbkdf2(h, password, len, salt, salt_len, iter))
		return 0;
	sy_hex(salt_hex, salt, salt_len);
	sy_hex(hash_hex, h, 32);
	int n = snprintf(out, cap, PBKDF2_TAG "%u$%s$%s", iter, salt_hex, hash_hex);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void sy_secret_dummy_begin(struct sy_secret *d)
{
	memset(d, 0, sizeof(*d));
	d->kind = SY_SECRET_PLAIN;
}

void sy_secret_dummy_fold(struct sy_secret *d, const struct sy_secret *a)
{
	if (a->kind == SY_SECRET_PBKDF2 && (d->kind != SY_SECRET_PBKDF2 || a->iter > d->iter)) {
		d->kind = SY_SECRET_PBKDF2;
		d->iter = a->iter;
		d->salt_len = a->salt_len;
	}
}
