/* secret.h: passwords and tokens as the config stores them, and the one
 * way they are checked (constant time, never a plain memcmp).
 *
 * A stored secret is one of:
 *   $pbkdf2-sha256$ITER$SALT$HASH  salted, slow: passwords (SMPP binds).
 *                                  SALT and HASH in hex, HASH 32 bytes,
 *                                  ITER 1,000..10,000,000.
 *   $sha256$HASH                   unsalted SHA-256 in hex: long random
 *                                  tokens (HTTP bearer), where a salt
 *                                  adds nothing and a bind-time cost would.
 *   anything else                  the secret itself, in the clear (still
 *                                  compared in constant time, through
 *                                  SHA-256, so its length does not leak).
 * `switchyard passwd` prints the first two forms (cmd/passwd.c).
 *
 * Deterministic (no randomness: the salt is given), so core may use it. */
#ifndef SY_SEC_SECRET_H
#define SY_SEC_SECRET_H

#include "core/base.h"

enum sy_secret_kind {
	SY_SECRET_NONE = 0, /* not set: nothing matches it */
	SY_SECRET_PLAIN,
	SY_SECRET_SHA256,
	SY_SECRET_PBKDF2,
};

#define SY_SECRET_SALT_MAX 32
#define SY_SECRET_PBKDF2_ITER_DEFAULT 20000u

struct sy_secret {
	enum sy_secret_kind kind;
	uint32_t iter;	      /* PBKDF2 */
	uint8_t salt_len;     /* PBKDF2 */
	uint8_t salt[SY_SECRET_SALT_MAX];
	uint8_t hash[32];     /* SHA-256 of the clear text, or the PBKDF2 output */
};

/* Parses a stored secret. An empty text is refused (SY_ERR_INVAL): no
 * secret is ever empty. err (may be NULL) gets a reason. */
enum sy_rc sy_secret_parse(struct sy_secret *out, const char *text, size_t len, char *err, size_t errcap);

/* Whether the clear text `given` matches; constant time in the content
 * (PBKDF2 costs ITER iterations whether or not it matches). */
bool sy_secret_check(const struct sy_secret *s, const void *given, size_t len);

/* The secret an unknown name is checked against, so an unknown name and a
 * wrong password take the same time: it costs what the dearest of the real
 * secrets costs (with every one hashed alike, what `switchyard passwd`
 * prints, exactly theirs). Start with sy_secret_dummy_begin, fold every
 * real secret in, then fill it with random content (sy_env_random on salt
 * and hash): it never matches anything a peer sends. */
void sy_secret_dummy_begin(struct sy_secret *d);
void sy_secret_dummy_fold(struct sy_secret *d, const struct sy_secret *real);

/* Formats `password` as $pbkdf2-sha256$ITER$SALT$HASH into out (cap >= 160),
 * or as $sha256$HASH when salt_len == 0. Returns the length, 0 on error. */
size_t sy_secret_format(char *out, size_t cap, const void *password, size_t len, const uint8_t *salt,
			size_t salt_len, uint32_t iter);

/* Constant-time equality of two buffers of the same length. */
bool sy_ct_equal(const void *a, const void *b, size_t n);

#endif
