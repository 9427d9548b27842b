/* passwd.c: `switchyard passwd [--token] [--iter N]`: turns a password read
 * from standard input (or typed at a terminal, without echo) into the
 * stored form the config takes (core/sec/secret.h), so no clear-text
 * password needs to sit in a config file: $pbkdf2-sha256$ITER$SALT$HASH
 * with a fresh random salt for SMPP bind passwords, or $sha256$HASH for
 * long random HTTP bearer tokens (--token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "core/sec/secret.h"
#include "core/smpp/pdu.h"

#define PW_MAX	   256
#define SALT_BYTES 16
#define ITER_MIN   1000u
#define ITER_MAX   10000000u

static void passwd_usage(FILE *f)
{
	fprintf(f,
		"usage: switchyard passwd [--token] [--iter N]\n"
		"  reads a password from standard input (one line; at a terminal it asks\n"
		"  twice, without echo) and prints its stored form for the config:\n"
		"    $pbkdf2-sha256$ITER$SALT$HASH   [account] password (SMPP binds), a\n"
		"                                    fresh random salt, ITER %u by default\n"
		"    $sha256$HASH  (--token)         [account] token (HTTP bearer tokens:\n"
		"                                    long and random, so no salt or cost)\n"
		"  --iter N   PBKDF2 iterations, %u..%u\n"
		"  Exit 0: printed; 2: usage error, empty input or no randomness.\n",
		SY_SECRET_PBKDF2_ITER_DEFAULT, ITER_MIN, ITER_MAX);
}

/* One line from f without its end of line; -1 on EOF or an over-long line. */
static int read_line(FILE *f, char *buf, size_t cap)
{
	if (fgets(buf, (int)cap, f) == NULL)
		return -1;
	size_t n = strlen(buf);
	if (n == cap - 1 && buf[n - 1] != '\n')
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return (int)n;
}

/* At a terminal: prompt on stderr, echo off, and read it twice. */
static int read_tty(char *buf, size_t cap)
{
	char again[PW_MAX];
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	fprintf(stderr, "password: ");
	int n = read_line(stdin, buf, cap);
	fprintf(stderr, "\nagain: ");
	int m = n >= 0 ? read_line(stdin, again, sizeof(again)) : -1;
	fprintf(stderr, "\n");
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	bool same = m == n && n >= 0 && memcmp(buf, again, (size_t)n) == 0;
	memset(again, 0, sizeof(again));
	if (!same) {
		fprintf(stderr, "switchyard passwd: the two entries differ\n");
		return -1;
	}
	return n;
}

static int passwd_args(int argc, char **argv, bool *token, uint32_t *iter)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			passwd_usage(stdout);
			return 1;
		} else if (strcmp(a, "--token") == 0) {
			*token = true;
		} else if (strcmp(a, "--iter") == 0 && next != NULL) {
			unsigned long v = strtoul(next, &end, 10);
			if (*end != '\0' || v < ITER_MIN || v > ITER_MAX) {
				fprintf(stderr, "switchyard passwd: bad --iter '%s' (%u..%u)\n", next, ITER_MIN,
					ITER_MAX);
				return -1;
			}
			*iter = (uint32_t)v;
			i++;
		} else {
			passwd_usage(stderr);
			return -1;
		}
	}
	return 0;
}

int cmd_passwd(int argc, char **argv)
{
	bool token = false;
	uint32_t iter = SY_SECRET_PBKDF2_ITER_DEFAULT;
	int rc = passwd_args(argc, argv, &token, &iter);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	char pw[PW_MAX], out[256];
	uint8_t salt[SALT_BYTES];
	int n = isatty(STDIN_FILENO) ? read_tty(pw, sizeof(pw)) : read_line(stdin, pw, sizeof(pw));
	size_t len = 0;
	rc = 2;
	if (n <= 0) {
		fprintf(stderr, "switchyard passwd: no password read (empty, or over %d bytes)\n", PW_MAX - 2);
		goto out_wipe;
	}
	if (!token && getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt)) {
		fprintf(stderr, "switchyard passwd: getrandom failed\n");
		goto out_wipe;
	}
	if (!token && n > SMPP_PASSWORD_MAX)
		fprintf(stderr, "switchyard passwd: warning: SMPP 3.4 binds carry %d characters at most\n",
			SMPP_PASSWORD_MAX);
	len = sy_secret_format(out, sizeof(out), pw, (size_t)n, token ? NULL : salt, token ? 0 : sizeof(salt), iter);
	if (len == 0) {
		fprintf(stderr, "switchyard passwd: cannot format the secret\n");
		goto out_wipe;
	}
	printf("%s\n", out);
	rc = 0;
out_wipe:
	memset(pw, 0, sizeof(pw));
	return rc;
}
