/* fraud_state.c: what the bounded state under core/fraud/ costs: ns per
 * operation for each structure (fwin, cms, hll, hllw, ftab) and the bytes
 * a million tracked accounts take (ftab with a 64-byte state and the
 * process's resident size). The clock advances 1 ms an operation, so the
 * windows roll over as they would under load. Prints JSON lines
 * {"bench":"fraud-state","op":...}; usage: fraud_state [N]. */
#include "bench/bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/fraud/cms.h"
#include "core/fraud/ftab.h"
#include "core/fraud/fwin.h"
#include "core/fraud/hll.h"
#include "core/fraud/mix.h"

#define ACCOUNTS 1000000u

static volatile uint64_t sink; /* keeps the results alive */

static void emit(const char *op, uint64_t n, uint64_t t0, size_t bytes)
{
	printf("{\"bench\":\"fraud-state\",\"op\":\"%s\",\"ops\":%llu,\"ns_per_op\":%.1f,\"bytes\":%zu}\n", op,
	       (unsigned long long)n, (double)(bench_ns(CLOCK_MONOTONIC) - t0) / (double)n, bytes);
}

static void bench_fwin(uint64_t n)
{
	struct fraud_fwin_geom g;
	fraud_fwin_geom_init(&g, 60 * SY_NS_PER_S, 60); /* a minute in seconds */
	struct fraud_fwin *w = calloc(1, fraud_fwin_bytes(60));
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += fraud_fwin_add(&g, w, i * SY_NS_PER_MS, i & 7);
	emit("fwin_add", n, t0, fraud_fwin_bytes(60));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		s += fraud_fwin_sum(&g, w, n * SY_NS_PER_MS + (i & 1023) * SY_NS_PER_MS);
	emit("fwin_sum", n, t0, fraud_fwin_bytes(60));
	sink += s;
	free(w);
}

static void bench_cms(uint64_t n)
{
	struct fraud_cms *c;
	struct fraud_cms_cfg cfg = {.depth = 4, .width = 2048, .epoch_ns = 60 * SY_NS_PER_S, .seed = 1};
	if (fraud_cms_create(&cfg, &c) != SY_OK)
		exit(1);
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += fraud_cms_add(c, fraud_mix64(i % 100000), i * SY_NS_PER_MS, 1);
	emit("cms_add", n, t0, fraud_cms_bytes(c));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		s += fraud_cms_estimate(c, fraud_mix64(i % 100000), n * SY_NS_PER_MS);
	emit("cms_estimate", n, t0, fraud_cms_bytes(c));
	sink += s;
	fraud_cms_destroy(c);
}

static void bench_hll(uint64_t n)
{
	struct fraud_hll *h = malloc(fraud_hll_bytes(12));
	fraud_hll_init(h, 12);
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		fraud_hll_add(h, i, 1);
	emit("hll_add", n, t0, fraud_hll_bytes(12));
	uint64_t m = n / 1000 + 1, s = 0;
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		s += fraud_hll_estimate(h);
	emit("hll_estimate", n, t0, fraud_hll_bytes(12));
	struct fraud_hllw *w;
	struct fraud_hllw_cfg cfg = {.p = 10, .n = 4, .epoch_ns = 900 * SY_NS_PER_S, .seed = 1};
	if (fraud_hllw_create(&cfg, &w) != SY_OK)
		exit(1);
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		fraud_hllw_add(w, i, i * SY_NS_PER_MS);
	emit("hllw_add", n, t0, fraud_hllw_bytes(w));
	t0 = bench_ns(CLOCK_MONOTONIC); /* in the newest epoch: the window's own sketch */
	for (uint64_t i = 0; i < n; i++)
		s += fraud_hllw_estimate(w, (n - 1) * SY_NS_PER_MS);
	emit("hllw_estimate", n, t0, fraud_hllw_bytes(w));
	t0 = bench_ns(CLOCK_MONOTONIC); /* an epoch later, no add since: merged on the fly */
	for (uint64_t i = 0; i < m; i++)
		s += fraud_hllw_estimate(w, (n - 1) * SY_NS_PER_MS + cfg.epoch_ns);
	emit("hllw_estimate_idle", m, t0, fraud_hllw_bytes(w));
	sink += s;
	fraud_hllw_destroy(w);
	free(h);
}

/* A million accounts of 64 bytes: insert them all, then look them up in a
 * scattered order (each a cache miss, as with real traffic). */
static void bench_ftab(uint64_t n)
{
	uint64_t rss0 = bench_rss_bytes();
	struct fraud_ftab *t;
	struct fraud_ftab_cfg cfg = {.keys = ACCOUNTS, .blob = 64, .seed = 1};
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	if (fraud_ftab_create(&cfg, &t) != SY_OK)
		exit(1);
	emit("ftab_create", 1, t0, fraud_ftab_bytes(t));
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < ACCOUNTS; i++)
		((uint64_t *)fraud_ftab_get(t, fraud_mix64(i), i, NULL))[0] = i;
	emit("ftab_insert", ACCOUNTS, t0, fraud_ftab_bytes(t));
	uint64_t s = 0;
	t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *a = fraud_ftab_get(t, fraud_mix64(fraud_mix64(i) % ACCOUNTS), ACCOUNTS + i, NULL);
		s += ++a[1];
	}
	emit("ftab_get", n, t0, fraud_ftab_bytes(t));
	uint64_t rss = bench_rss_bytes() - rss0;
	const struct fraud_ftab_stats *st = fraud_ftab_stats(t);
	printf("{\"bench\":\"fraud-state\",\"op\":\"ftab_memory\",\"accounts\":%u,\"state_bytes\":64,\"bytes\":%zu,"
	       "\"bytes_per_account\":%.1f,\"rss_bytes\":%llu,\"evicted\":%llu}\n",
	       ACCOUNTS, fraud_ftab_bytes(t), (double)fraud_ftab_bytes(t) / ACCOUNTS, (unsigned long long)rss,
	       (unsigned long long)st->evicted);
	sink += s;
	fraud_ftab_destroy(t);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	bench_fwin(n);
	bench_cms(n);
	bench_hll(n);
	bench_ftab(n);
	return 0;
}
