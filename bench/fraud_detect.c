/* fraud_detect.c: what the Wangiri and SMS pumping detectors cost per
 * event with the engine's defaults (fraud_cfg_defaults): ns per call end,
 * inbound and callback check, SMS submit and receipt, and the bytes each
 * instance holds. Virtual time advances 1 ms an event (1,000 a second),
 * so windows and steps roll as under load; numbers are random, so the
 * range and prefix tables churn (the worst case for their caches).
 * Prints JSON lines {"bench":"fraud-detect","op":...}; usage:
 * fraud_detect [N]. */
#include "bench/bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/fraud/smspump.h"
#include "core/fraud/wangiri.h"

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static volatile uint64_t sink;

static void emit(const char *op, uint64_t n, uint64_t t0, size_t bytes)
{
	printf("{\"bench\":\"fraud-detect\",\"op\":\"%s\",\"ops\":%llu,\"ns_per_op\":%.1f,\"bytes\":%zu}\n", op,
	       (unsigned long long)n, (double)(bench_ns(CLOCK_MONOTONIC) - t0) / (double)n, bytes);
}

/* n random 12-digit numbers, 16 bytes each (no formatting in the loops). */
static char *numbers(uint64_t n, uint64_t seed, const char *lead)
{
	char *v = malloc(n * 16);
	for (uint64_t i = 0; i < n; i++)
		snprintf(v + i * 16, 16, "%s%010llu", lead, (unsigned long long)(rng_next(&seed) % 10000000000ull));
	return v;
}

#define NUM(v, i) ((struct sy_str){(v) + ((i) % 65536) * 16, 12})

static void bench_wangiri(uint64_t n)
{
	static struct fraud_cfg d; /* the engine's defaults, as a node without overrides runs them */
	fraud_cfg_defaults(&d);
	struct fraud_wangiri_cfg c = d.wangiri;
	c.on = true;
	struct fraud_wangiri *w;
	if (fraud_wangiri_create(&c, 42, &w) != SY_OK)
		exit(1);
	char *from = numbers(65536, 1, "37"), *to = numbers(65536, 2, "44"), why[FRAUD_REASON_MAX];
	struct fraud_call_end e = {.answered = false, .ring_ns = SY_NS_PER_S};
	/* Protect 1,000 ranges (37000000 .. 37000999: 31 calls to 31 callees each). */
	for (unsigned r = 0; r < 1000; r++)
		for (unsigned k = 0; k < 31; k++) {
			char src[16];
			snprintf(src, sizeof(src), "370%05u0000", r);
			fraud_wangiri_call_end(w, sy_str_from(src), NUM(to, k), &e, 0);
		}
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), s = 0;
	for (uint64_t i = 0; i < n; i++)
		fraud_wangiri_call_end(w, NUM(from, i), NUM(to, i * 7), &e, i * SY_NS_PER_MS);
	emit("wangiri_call_end", n, t0, fraud_wangiri_bytes(w));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		s += fraud_wangiri_inbound(w, NUM(from, i * 3), n * SY_NS_PER_MS, why, sizeof(why));
	emit("wangiri_inbound", n, t0, fraud_wangiri_bytes(w));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		s += fraud_wangiri_callback(w, NUM(from, i * 5), n * SY_NS_PER_MS, why, sizeof(why));
	emit("wangiri_callback", n, t0, fraud_wangiri_bytes(w));
	sink += s + fraud_wangiri_protected(w, n * SY_NS_PER_MS);
	fraud_wangiri_destroy(w);
	free(from), free(to);
}

static void bench_smspump(uint64_t n)
{
	static struct fraud_cfg d;
	fraud_cfg_defaults(&d);
	struct fraud_sms_cfg c = d.sms;
	c.on = true;
	struct fraud_smspump *p;
	if (fraud_smspump_create(&c, 42, &p) != SY_OK)
		exit(1);
	char *to = numbers(65536, 3, "4"), why[FRAUD_REASON_MAX];
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += fraud_smspump_submit(p, i % 1000, NUM(to, i), i * SY_NS_PER_MS, why, sizeof(why));
	emit("smspump_submit", n, t0, fraud_smspump_bytes(p));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		fraud_smspump_receipt(p, SY_STR("carrier-a"), NUM(to, i), i % 5 != 0, (n + i) * SY_NS_PER_MS);
	emit("smspump_receipt", n, t0, fraud_smspump_bytes(p));
	sink += s;
	fraud_smspump_destroy(p);
	free(to);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	bench_wangiri(n);
	bench_smspump(n);
	return 0;
}
