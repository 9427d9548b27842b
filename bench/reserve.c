/* reserve.c: the per-call cost of the reservation path: reserve at answer,
 * two extends with checkpoints, commit at hangup, journaled to the sqlite
 * ledger in a temp dir with a batch committed every 1000 calls (the owner's
 * timer). Also times the same path in memory only (no journal). Prints one
 * JSON line; usage: reserve [N] (default 200000). */
#include "bench/bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/live/live.h"
#include "core/store/ledger.h"

#define ACCOUNTS	1000
#define CALLS_PER_BATCH 1000
#define U		BILL_MICROS_PER_UNIT

static void acct_name(char *buf, uint64_t i)
{
	snprintf(buf, 16, "acct%04llu", (unsigned long long)(i % ACCOUNTS));
}

static int setup_accounts(struct bill_book *b)
{
	char name[16];
	for (uint64_t i = 0; i < ACCOUNTS; i++) {
		acct_name(name, i);
		struct bill_account_def d = {.name = sy_str_from(name),
					     .currency = SY_STR("USD"),
					     .kind = BILL_PREPAID,
					     .balance_micros = 1000000 * U};
		if (bill_account_add(b, &d) != SY_OK)
			return 1;
	}
	return 0;
}

/* One call: 60 s slices at 1.00/min, hangup after 150 s costing 2.5. */
static int one_call(struct bill_book *b, uint64_t i)
{
	char name[16], cid[32];
	acct_name(name, i);
	snprintf(cid, sizeof cid, "%012llu@bench", (unsigned long long)i);
	bill_resv_id r;
	if (bill_reserve(b, sy_str_from(name), sy_str_from(cid), U, U, &r, NULL) != SY_OK)
		return 1;
	if (bill_extend(b, r, U, 900000, NULL, NULL) != SY_OK || bill_extend(b, r, U, 1900000, NULL, NULL) != SY_OK)
		return 1;
	return bill_commit(b, r, 2500000, NULL) != SY_OK;
}

/* Runs n calls; with l, commits a batch every CALLS_PER_BATCH calls. */
static int run(struct bill_book *b, struct ledger *l, uint64_t n, double *wall_s, double *cpu_s)
{
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC), c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (uint64_t i = 0; i < n; i++) {
		if (one_call(b, i) != 0)
			return 1;
		if (l != NULL && (i + 1) % CALLS_PER_BATCH == 0 && ledger_commit(l) != SY_OK)
			return 1;
	}
	if (l != NULL && ledger_commit(l) != SY_OK)
		return 1;
	*wall_s = (double)(bench_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	*cpu_s = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
	char dir[] = "/tmp/sy_bench_reserve.XXXXXX", path[64], err[LEDGER_ERRMSG_MAX];
	if (n == 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "reserve: bad N or no temp dir\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/ledger.sqlite", dir);
	struct bill_book_opts bo = {.accounts_max = ACCOUNTS, .resv_max = 1024};
	struct bill_book *mem, *b;
	struct ledger *l;
	if (bill_book_new(&bo, &mem) != SY_OK || bill_book_new(&bo, &b) != SY_OK || setup_accounts(mem) != 0 ||
	    ledger_open(sy_live_files(), path, NULL, &l, err, sizeof err) != SY_OK ||
	    ledger_recover(l, b, NULL) != SY_OK || setup_accounts(b) != 0 || ledger_commit(l) != SY_OK) {
		fprintf(stderr, "reserve: setup failed: %s\n", err);
		return 1;
	}
	double mem_wall, mem_cpu, wall, cpu;
	int rc = run(mem, NULL, n, &mem_wall, &mem_cpu) || run(b, l, n, &wall, &cpu);
	bool ok = rc == 0 && bill_conservation_ok(b, NULL, NULL) && bill_conservation_ok(mem, NULL, NULL);
	if (ledger_close(l) != SY_OK)
		ok = false;
	bill_book_free(mem);
	bill_book_free(b);
	const char *sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < SY_ARRAY_LEN(sfx); i++) {
		char p[80];
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	if (!ok) {
		fprintf(stderr, "reserve: run failed\n");
		return 1;
	}
	printf("{\"bench\":\"reserve\",\"calls\":%llu,\"wall_s\":%.3f,\"us_per_call\":%.2f,\"cpu_us_per_call\":%.2f,"
	       "\"mem_only_us_per_call\":%.3f}\n",
	       (unsigned long long)n, wall, wall * 1e6 / (double)n, cpu * 1e6 / (double)n, mem_wall * 1e6 / (double)n);
	return 0;
}
