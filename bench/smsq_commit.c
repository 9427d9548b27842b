/* smsq_commit.c: durable SMS queue throughput on one core: N messages put
 * and group-committed (batches of SMSQ_BATCH_DEFAULT) into the segment log in a
 * temp dir, then, as a second line, the full life of each message (put,
 * ENROUTE, DELIVERED with a receipt owed, receipt sent) as the SMSC writes it.
 * Usage: smsq_commit [N] (default 1000000). Prints JSON lines.
 * SY_BENCH_NO_LIFECYCLE=1 skips the second line; SY_BENCH_SYNC_FULL=1 makes
 * every commit fdatasync before its callbacks (sync = full). */
#include "bench/bench.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/live/live.h"
#include "core/store/smsq.h"

struct bench {
	uint64_t done, failed;
};

static void on_done(void *arg, enum smsq_op op, uint64_t id, uint64_t token, enum sy_rc rc)
{
	(void)op, (void)id, (void)token;
	struct bench *b = arg;
	b->done++;
	b->failed += rc != SY_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* Writes prefix + v as `width` digits into dst (NUL-terminated): snprintf
 * would cost a good part of the store's own time. */
static void put_num(char *dst, const char *prefix, uint64_t v, int width)
{
	size_t n = strlen(prefix);
	memcpy(dst, prefix, n);
	for (int i = width - 1; i >= 0; i--, v /= 10)
		dst[n + (size_t)i] = (char)('0' + v % 10);
	dst[n + (size_t)width] = '\0';
}

static const uint8_t text[] = "Your verification code is 493021. It expires in 10 minutes. Do not share it.";

static void fill(struct smsq_msg *m, uint64_t i)
{
	m->id = i + 1;
	m->submit_ns = 1773568800000000000ull + i * 10000;
	m->expiry_ns = m->submit_ns + 48 * 3600 * SY_NS_PER_S;
	put_num(m->src.digits, "4420", i % 10000000, 7);
	put_num(m->dst.digits, "1555", (i * 7919) % 10000000, 7);
	m->registered_delivery = (uint8_t)(i % 2);
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* phase 0: puts only; phase 1: the whole life of each message. */
static int run(const char *path, uint64_t n, int phase)
{
	struct bench b = {0};
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {.on_done = on_done,
			      .arg = &b,
			      .sync_full = getenv("SY_BENCH_SYNC_FULL") != NULL,
			      .err = err,
			      .err_len = sizeof err};
	struct smsq *q;
	if (smsq_open(sy_live_files(), path, &o, &q) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct smsq_msg m = {
	    .src = {.ton = 1, .npi = 1}, .dst = {.ton = 1, .npi = 1}, .body = text, .body_len = sizeof text - 1};
	snprintf(m.system_id, sizeof m.system_id, "acme");
	struct smsq_update enroute = {
	    .state = SMSQ_ENROUTE, .set = SMSQ_SET_ATTEMPTS | SMSQ_SET_CARRIER, .attempts = 1};
	snprintf(enroute.carrier, sizeof enroute.carrier, "tier1");
	struct smsq_update done = {.state = SMSQ_DELIVERED,
				   .set = SMSQ_SET_UPSTREAM_ID | SMSQ_SET_DONE | SMSQ_SET_DLR_PENDING,
				   .dlr_pending = true};
	struct smsq_update dlr_sent = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DLR_PENDING};
	/* SY_BENCH_NO_ENROUTE: the shortest protocol, where the idempotency
	 * key alone makes re-sends safe and no mark precedes the send. */
	bool with_enroute = getenv("SY_BENCH_NO_ENROUTE") == NULL;
	int rc = 0;
	uint64_t writes = 0, t0 = bench_ns(CLOCK_MONOTONIC), c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		fill(&m, i);
		rc |= smsq_put(q, &m, i) != SY_OK;
		writes++;
		if (phase == 0 || i < 8192)
			continue;
		/* Marks trail the puts by two batches, as they would behind
		 * the network: each hits a row already committed. */
		uint64_t id = i - 8192 + 1;
		put_num(done.upstream_id, "up", id, 12);
		done.done_ns = m.submit_ns;
		if (with_enroute) {
			rc |= smsq_mark(q, id, &enroute, id) != SY_OK;
			writes++;
		}
		rc |= smsq_mark(q, id, &done, id) != SY_OK;
		rc |= smsq_mark(q, id, &dlr_sent, id) != SY_OK;
		writes += 2;
	}
	struct smsq_stats st;
	smsq_stats(q, &st);
	if (smsq_close(q) != SY_OK || b.failed != 0 || b.done != writes)
		rc = 1;
	uint64_t wall = bench_ns(CLOCK_MONOTONIC) - t0, cpu = bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (rc != 0) {
		fprintf(stderr, "smsq_commit: store error (%llu done, %llu failed)\n", (unsigned long long)b.done,
			(unsigned long long)b.failed);
		return 1;
	}
	/* cpu_s next to wall_s: on a shared disk much of the wall time is the
	 * checkpoints' fsyncs; the CPU time is the store's own cost. */
	printf("{\"bench\":\"%s\",\"msgs\":%llu,\"writes\":%llu,\"wall_s\":%.3f,\"msgs_per_s\":%.0f,\"cpu_s\":%.3f,"
	       "\"msgs_per_cpu_s\":%.0f,\"commits\":%llu,\"syncs\":%llu}\n",
	       phase == 0     ? "smsq-commit"
	       : with_enroute ? "smsq-lifecycle"
			      : "smsq-lifecycle-short",
	       (unsigned long long)n, (unsigned long long)writes, secs(wall), (double)n / secs(wall), secs(cpu),
	       (double)n / secs(cpu), (unsigned long long)st.commits, (unsigned long long)st.syncs);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char dir[] = "/tmp/sy_bench_smsq.XXXXXX";
	if (n == 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: smsq_commit [N>0]\n");
		return 1;
	}
	char p0[sizeof dir + 16], p1[sizeof dir + 16];
	snprintf(p0, sizeof p0, "%s/put", dir);
	snprintf(p1, sizeof p1, "%s/life", dir);
	int rc = run(p0, n, 0);
	if (rc == 0 && getenv("SY_BENCH_NO_LIFECYCLE") == NULL)
		rc = run(p1, n, 1);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
