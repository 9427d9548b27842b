/* cdr_insert.c: CDR store throughput on one core: N CDRs through
 * cdr_store_add() in default batches into sqlite (WAL) and CSV in a temp dir.
 * Prints one JSON line; usage: cdr_insert [N] (default 1000000). */
#include "bench/bench.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/live/live.h"
#include "core/store/cdr.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* Writes prefix + v as `width` digits + suffix into dst (NUL-terminated):
 * snprintf would cost as much as the store itself. */
static void put_num(char *dst, const char *prefix, uint64_t v, int width, const char *suffix)
{
	size_t n = strlen(prefix);
	memcpy(dst, prefix, n);
	for (int i = width - 1; i >= 0; i--, v /= 10)
		dst[n + (size_t)i] = (char)('0' + v % 10);
	strcpy(dst + n + (size_t)width, suffix);
}

/* Varies the fields a real CDR varies, so rows are not all alike. */
static void fill(struct cdr *c, uint64_t i)
{
	c->id = i + 1;
	c->start_ns = 1773568800000000000ull + i * 100000;
	c->answer_ns = i % 3 == 0 ? 0 : c->start_ns + 2 * SY_NS_PER_S;
	c->end_ns = c->start_ns + (30 + i % 90) * SY_NS_PER_S;
	c->duration_ms = c->answer_ns ? (uint32_t)((c->end_ns - c->answer_ns) / SY_NS_PER_MS) : 0;
	c->disposition = c->answer_ns ? CDR_DISP_ANSWERED : CDR_DISP_BUSY;
	c->sip_status = c->answer_ns ? 200 : 486;
	c->pdd_ms = 100 + i % 400;
	put_num(c->caller, "+4420", i % 10000000, 7, "");
	put_num(c->callee, "+1555", (i * 7919) % 10000000, 7, "");
	put_num(c->a_call_id, "", i, 12, "-a@10.0.0.1");
	put_num(c->b_call_id, "", i, 12, "-b@10.0.0.1");
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char dir[] = "/tmp/sy_bench_cdr.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char err[CDR_STORE_ERRMSG_MAX];
	/* SY_BENCH_NO_SQLITE / SY_BENCH_NO_CSV measure one output alone. */
	struct cdr_store_opts o = {.err = err,
				   .err_len = sizeof err,
				   .no_sqlite = getenv("SY_BENCH_NO_SQLITE") != NULL,
				   .no_csv = getenv("SY_BENCH_NO_CSV") != NULL};
	struct cdr_store *s;
	if (cdr_store_open(sy_live_files(), dir, &o, &s) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct cdr c = {.hangup = CDR_SIDE_CALLER, .tariff_id = 3};
	snprintf(c.carrier, sizeof c.carrier, "tier1");
	int rc = 0;
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		fill(&c, i);
		rc = cdr_store_add(s, &c) != SY_OK;
	}
	if (cdr_store_close(s) != SY_OK)
		rc = 1;
	double wall_s = (double)(bench_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	double cpu_s = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0) {
		fprintf(stderr, "cdr_insert: store error\n");
		return 1;
	}
	/* cpu_s next to wall_s: on a shared disk the wall time is mostly the
	 * checkpoints' fsyncs; the CPU time is the store's own cost. */
	printf("{\"bench\":\"cdr-insert\",\"cdrs\":%llu,\"wall_s\":%.3f,\"cdrs_per_s\":%.0f,\"cpu_s\":%.3f,"
	       "\"cdrs_per_cpu_s\":%.0f}\n",
	       (unsigned long long)n, wall_s, (double)n / wall_s, cpu_s, (double)n / cpu_s);
	return 0;
}
