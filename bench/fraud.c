/* fraud.c: what a fraud decision costs with a million tracked accounts and
 * the full rule set (every detector on, a ranges table of a few thousand
 * prefixes written to a temp dir and loaded like serve does). The table is
 * warmed first (every account makes a call), then N calls of a mix (most
 * to ordinary numbers, some to risky, premium and blocked ranges, a few
 * with odd caller numbers) are decided; each fraud_call_begin + end is
 * timed with clock_gettime. Virtual time moves 1 ms a call (1,000 CPS).
 * Prints {"bench":"fraud","decisions":N,"ns_p50":...,"ns_p99":...,
 * "accounts":1000000,"rss_mb":...}; usage: fraud [N]. */
#include "bench/bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/fraud/fraud.h"
#include "core/fraud/mix.h"
#include "core/live/live.h"

#define ACCOUNTS 1000000u
#define PREFIXES 4000u

static uint64_t vnow_ns; /* the bench's virtual clock */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return fraud_mix64(rnd_state++);
}

static uint64_t b_now(void *ctx)
{
	return vnow_ns;
}

static uint64_t b_wall(void *ctx)
{
	return 1700000000ull * SY_NS_PER_S + vnow_ns;
}

static uint64_t b_seed(void *ctx)
{
	return 1;
}

static void b_random(void *ctx, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)rnd();
}

static void b_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static struct sy_env_ops ops = {.now_ns = b_now, .wall_ns = b_wall, .seed = b_seed, .random = b_random, .log = b_log};

/* A ranges file of PREFIXES entries under country codes commonly seen in
 * IRSF lists, 5 to 8 digits, mostly high, some medium, premium, blocked
 * and carve-outs. */
static void write_ranges(const char *path)
{
	static const char *const cc[] = {"882", "881", "883", "870", "675", "677", "678", "686",
					 "688", "690", "691", "290", "247", "53",  "252", "371",
					 "373", "381", "960", "979", "44",  "33",  "49",  "1900"};
	static const char *const cls[] = {"high", "high", "high", "medium", "premium", "blocked", "none", "high"};
	FILE *f = fopen(path, "w");
	if (f == NULL)
		exit(1);
	fprintf(f, "prefix,class,label\n");
	for (size_t i = 0; i < SY_ARRAY_LEN(cc); i++) /* the country codes themselves */
		fprintf(f, "+%s,%s,cc %s\n", cc[i], i >= 20 ? "low" : "high", cc[i]);
	/* cc + 3 digits unique per cc + 0 to 3 random digits: unique prefixes. */
	for (uint32_t i = 0; i < PREFIXES; i++) {
		const char *c = cc[i % SY_ARRAY_LEN(cc)];
		unsigned extra = i % 4, tail = (unsigned)(rnd() % 1000);
		char more[8] = "";
		if (extra > 0)
			snprintf(more, sizeof more, "%0*u", (int)extra,
				 tail % (extra == 1   ? 10
					 : extra == 2 ? 100
						      : 1000));
		fprintf(f, "+%s%03u%s,%s,bench range %u\n", c, (unsigned)(i / SY_ARRAY_LEN(cc)), more, cls[i % 8], i);
	}
	fclose(f);
}

static void rules(struct fraud_cfg *cfg)
{
	for (uint32_t i = 0; i < 4; i++) {
		struct fraud_rule_cfg *r = &cfg->rules[i];
		fraud_rule_defaults(r);
		snprintf(r->name, sizeof r->name, i == 0 ? "default" : "class%u", i);
		uint64_t k = i + 1;
		r->calls = (struct fraud_limit){20 * k, 1 * SY_NS_PER_S, FRAUD_BLOCK};
		r->concurrent = (struct fraud_limit){30 * k, 0, FRAUD_BLOCK};
		r->spend = (struct fraud_limit){50000000 * k, 3600 * SY_NS_PER_S, FRAUD_FLAG};
		r->new_dest = (struct fraud_limit){100 * k, 3600 * SY_NS_PER_S, FRAUD_FLAG};
		r->risky_calls = (struct fraud_limit){10 * k, 600 * SY_NS_PER_S, FRAUD_BLOCK};
		r->risky_spend = (struct fraud_limit){20000000 * k, 3600 * SY_NS_PER_S, FRAUD_BLOCK};
		r->range_burst = (struct fraud_limit){20 * k, 600 * SY_NS_PER_S, FRAUD_BLOCK};
		r->premium_max_ns = 600 * SY_NS_PER_S;
		r->cli_malformed = FRAUD_FLAG;
		r->cli_same = FRAUD_BLOCK;
		r->cli_foreign = FRAUD_FLAG;
		r->sms = (struct fraud_limit){100 * k, 1 * SY_NS_PER_S, FRAUD_THROTTLE};
	}
	cfg->rule_n = 4;
	cfg->default_rule = 0;
	/* Listed accounts (with own numbers) are acct0 .. acct255. */
	for (uint32_t i = 0; i < FRAUD_ACCOUNTS_MAX; i++) {
		struct fraud_account_cfg *a = &cfg->accounts[i];
		snprintf(a->name, sizeof a->name, "acct%u", i);
		a->rule = (int32_t)(i % 4);
		snprintf(a->own[0], sizeof a->own[0], "+4420%u", i % 10);
		snprintf(a->own[1], sizeof a->own[1], "+4421%u", i % 10);
		a->own_n = 2;
	}
	cfg->account_n = FRAUD_ACCOUNTS_MAX;
}

/* One call of the mix for account i: its callee and caller numbers. */
static void pick(uint64_t r, uint32_t i, char *caller, char *callee)
{
	unsigned kind = (unsigned)(r % 1000);
	snprintf(caller, 24, "+4420%u%07u", i % 10, (unsigned)(r >> 20) % 10000000);
	if (kind < 940)
		snprintf(callee, 24, "+44%010llu", (unsigned long long)((r >> 8) % 10000000000ull));
	else if (kind < 980)
		snprintf(callee, 24, "+882%08u", (unsigned)((r >> 8) % 100000000));
	else if (kind < 990)
		snprintf(callee, 24, "+1900%07u", (unsigned)((r >> 8) % 10000000));
	else if (kind < 995)
		snprintf(callee, 24, "+53%08u", (unsigned)((r >> 8) % 100000000));
	else
		snprintf(caller, 24, "+28%09u", (unsigned)((r >> 8) % 1000000000)); /* spare country code */
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t one_call(struct fraud *f, uint32_t i, uint64_t r, uint64_t *begin_ns)
{
	char acct[24], caller[24], callee[24];
	snprintf(acct, sizeof acct, "acct%u", i);
	pick(r, i, caller, callee);
	struct fraud_call_req rq = {sy_str_from(acct), sy_str_from(acct), sy_str_from(caller), sy_str_from(callee),
				    SY_STR("bench-call")};
	struct fraud_call st;
	struct fraud_decision d;
	struct fraud_call_end e = {.answered = (r & 3) != 0,
				   .ring_ns = 4 * SY_NS_PER_S,
				   .duration_ns = (r & 3) ? 90 * SY_NS_PER_S : 0,
				   .cost_micros = (r & 3) ? 12000 : 0};
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	fraud_call_begin(f, &rq, &st, &d);
	uint64_t t1 = bench_ns(CLOCK_MONOTONIC);
	fraud_call_end(f, &st, &e);
	uint64_t t2 = bench_ns(CLOCK_MONOTONIC);
	*begin_ns = t1 - t0;
	return (uint32_t)(t2 - t0);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char dir[] = "/tmp/sy-bench-fraud-XXXXXX", path[64];
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/ranges.csv", dir);
	write_ranges(path);
	const struct sy_env_ops *files = sy_live_files()->ops;
	ops.file_open = files->file_open, ops.file_read = files->file_read, ops.file_size = files->file_size;
	ops.file_close = files->file_close;
	struct sy_env env = {.ops = &ops, .log_level = SY_LOG_WARN};

	static struct fraud_cfg cfg;
	fraud_cfg_defaults(&cfg);
	cfg.on = true;
	cfg.accounts_max = ACCOUNTS; /* the default (100,000) is smaller: a million is what this measures */
	snprintf(cfg.ranges_path, sizeof cfg.ranges_path, "%s", path);
	rules(&cfg);
	cfg.wangiri.on = cfg.sms.on = true;
	struct fraud *f;
	char err[256];
	uint64_t rss0 = bench_rss_bytes();
	if (fraud_create(&env, &cfg, NULL, NULL, NULL, &f, err, sizeof err) != SY_OK) {
		fprintf(stderr, "fraud_create: %s\n", err);
		return 1;
	}
	unlink(path);
	rmdir(dir);
	uint64_t b;
	for (uint32_t i = 0; i < ACCOUNTS; i++, vnow_ns += SY_NS_PER_MS) /* warm: every account once */
		one_call(f, i, rnd(), &b);
	uint32_t *t = malloc(n * sizeof(uint32_t)), *tb = malloc(n * sizeof(uint32_t));
	if (t == NULL || tb == NULL)
		return 1;
	for (uint64_t k = 0; k < n; k++, vnow_ns += SY_NS_PER_MS) {
		uint64_t r = rnd();
		t[k] = one_call(f, (uint32_t)(r % ACCOUNTS), r >> 20, &b);
		tb[k] = (uint32_t)b;
	}
	qsort(t, n, sizeof(uint32_t), cmp_u32);
	qsort(tb, n, sizeof(uint32_t), cmp_u32);
	const struct fraud_stats *s = fraud_stats(f);
	printf("{\"bench\":\"fraud\",\"decisions\":%llu,\"ns_p50\":%u,\"ns_p99\":%u,\"ns_p999\":%u,\"ns_max\":%u,"
	       "\"begin_ns_p50\":%u,\"begin_ns_p99\":%u,\"accounts\":%u,\"rss_mb\":%.0f,\"fraud_mb\":%.0f,"
	       "\"prefixes\":%u,\"wangiri_sms\":%s,\"blocked\":%llu,\"flagged\":%llu,\"evicted\":%llu,"
	       "\"blocked_irsf\":%llu,\"blocked_wangiri\":%llu,\"blocked_velocity\":%llu,\"blocked_callerid\":%llu}\n",
	       (unsigned long long)n, t[n / 2], t[n * 99 / 100], t[n * 999 / 1000], t[n - 1], tb[n / 2],
	       tb[n * 99 / 100], (unsigned)s->accounts_tracked, (double)(bench_rss_bytes() - rss0) / 1e6,
	       (double)s->bytes / 1e6, PREFIXES + 24, cfg.wangiri.on ? "true" : "false",
	       (unsigned long long)s->by_action[FRAUD_BLOCK], (unsigned long long)s->by_action[FRAUD_FLAG],
	       (unsigned long long)s->accounts_evicted, (unsigned long long)s->blocked_by[FRAUD_DET_IRSF],
	       (unsigned long long)s->blocked_by[FRAUD_DET_WANGIRI],
	       (unsigned long long)s->blocked_by[FRAUD_DET_VELOCITY],
	       (unsigned long long)s->blocked_by[FRAUD_DET_CALLERID]);
	fraud_destroy(f);
	free(t);
	free(tb);
	return 0;
}
