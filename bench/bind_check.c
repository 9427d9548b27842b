/* bind_check.c: the cost of one SMPP bind's password check on one core
 * (core/sec/secret.h, as core/smpp/smsc_bind.c calls it): a stored
 * $pbkdf2-sha256$ secret at the default iterations (what `switchyard
 * passwd` prints), and a clear-text one. Binds are rare (an ESME binds once
 * and submits for hours), so this is the price per bind, not per message.
 * Prints one JSON line per form. usage: bind_check [CHECKS] (default 50). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/sec/secret.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SY_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void run(const char *name, const char *stored, uint32_t n)
{
	struct sy_secret s;
	char err[128];
	if (sy_secret_parse(&s, stored, strlen(stored), err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "bind_check: %s: %s\n", name, err);
		exit(1);
	}
	uint32_t ok = 0;
	uint64_t t0 = mono_ns();
	for (uint32_t i = 0; i < n; i++)
		ok += sy_secret_check(&s, i % 2 ? "secret" : "wrong", i % 2 ? 6 : 5);
	uint64_t dt = mono_ns() - t0;
	printf(
	    "{\"bench\":\"bind-check-%s\",\"checks\":%u,\"matched\":%u,\"us_per_check\":%.1f,\"checks_per_s\":%.0f}\n",
	    name, n, ok, (double)dt / n / 1000.0, n * 1e9 / (double)dt);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 50;
	static const uint8_t salt[16] = {7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1, 4, 2};
	char stored[200];
	if (n == 0 || sy_secret_format(stored, sizeof(stored), "secret", 6, salt, sizeof(salt),
				       SY_SECRET_PBKDF2_ITER_DEFAULT) == 0)
		return 2;
	run("pbkdf2", stored, n);
	run("plain", "secret", n * 1000);
	return 0;
}
