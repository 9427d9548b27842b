/* rating.c: batch rating throughput on one core. Generates a tariff of 1M
 * distinct prefixes (as CSV text, loaded by the real loader) and 10M CDRs in
 * memory from a seeded PRNG, rates them all, then re-rates 1M CDRs through
 * the CSV path (temp file in, temp file out). Prints two JSON lines.
 * usage: rating [CDRS [PREFIXES [CSV_ROWS]]] (defaults 10000000 1000000 1000000). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/billing/rate.h"
#include "core/live/live.h"
#include "core/rng.h"
#include "core/store/cdr.h"

#define EPOCH_2024 1704067200ull /* a Monday, 00:00 UTC */

struct bcdr {
	char num[16];
	uint32_t dur_ms;
	uint32_t at_s; /* seconds after EPOCH_2024 */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SY_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static long rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* Country codes of varied length, as real decks have. */
static const char *const ccs[] = {
    "1",   "7",	  "20",	 "27",	"30",  "31",  "32",  "33",  "34",  "36",  "39",	 "40",	"41",  "43",  "44",  "45",
    "46",  "47",  "48",	 "49",	"51",  "52",  "53",  "54",  "55",  "56",  "57",	 "58",	"60",  "61",  "62",  "63",
    "64",  "65",  "66",	 "81",	"82",  "84",  "86",  "90",  "91",  "92",  "93",	 "94",	"95",  "98",  "211", "212",
    "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232",
    "233", "234", "235", "236", "237", "238", "351", "352", "353", "354", "355", "356", "357", "358", "359", "370",
    "371", "372", "373", "374", "375", "376", "377", "378", "380", "381", "852", "853", "855", "856", "880", "886",
    "960", "961", "962", "963", "964", "965", "966", "967", "968", "970", "971", "972", "973", "974"};

struct pfx {
	char d[16];
};

static int pfx_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pfx *)a)->d, ((const struct pfx *)b)->d);
}

/* n distinct prefixes: a country code plus 2..6 random digits, sorted as
 * carriers' decks are. Duplicates are removed after sorting and refilled. */
static struct pfx *gen_prefixes(struct sy_rng *r, size_t n)
{
	struct pfx *p = malloc(n * sizeof *p);
	size_t have = 0;
	while (have < n) {
		for (size_t i = have; i < n; i++) {
			const char *cc = ccs[sy_rng_below(r, SY_ARRAY_LEN(ccs))];
			size_t l = strlen(cc), extra = 2 + sy_rng_below(r, 5);
			memcpy(p[i].d, cc, l);
			for (size_t k = 0; k < extra; k++)
				p[i].d[l + k] = (char)('0' + sy_rng_below(r, 10));
			p[i].d[l + extra] = '\0';
		}
		qsort(p, n, sizeof *p, pfx_cmp);
		have = 1;
		for (size_t i = 1; i < n; i++)
			if (strcmp(p[i].d, p[have - 1].d) != 0)
				p[have++] = p[i];
	}
	qsort(p, n, sizeof *p, pfx_cmp);
	return p;
}

static char *gen_tariff_csv(struct sy_rng *r, const struct pfx *p, size_t n, size_t *len)
{
	static const char *const incr[] = {"1/1", "30/6", "60/60", "60/1"};
	char *buf = malloc(n * 64 + 128), *o = buf;
	o += sprintf(o, "prefix,description,rate,connection_fee,increments,minimum,band\n");
	for (size_t i = 0; i < n; i++) {
		uint64_t rate = 1 + sy_rng_below(r, 300000); /* up to 0.3/min */
		const char *in = incr[sy_rng_below(r, SY_ARRAY_LEN(incr))];
		if (i % 20 == 0) { /* 5% of destinations have peak/offpeak/weekend rates */
			o += sprintf(o, "%s,Dest %zu,0.%06llu,0,%s,0,peak\n", p[i].d, i, (unsigned long long)rate, in);
			o += sprintf(o, "%s,Dest %zu,0.%06llu,0,%s,0,offpeak\n", p[i].d, i,
				     (unsigned long long)rate / 2, in);
			o += sprintf(o, "%s,Dest %zu,0.%06llu,0,%s,0,weekend\n", p[i].d, i,
				     (unsigned long long)rate / 3, in);
		} else {
			o += sprintf(o, "%s,Dest %zu,0.%06llu,0.%06llu,%s,%d,\n", p[i].d, i, (unsigned long long)rate,
				     (unsigned long long)(i % 7 == 0 ? rate : 0), in, i % 11 == 0 ? 60 : 0);
		}
	}
	*len = (size_t)(o - buf);
	return buf;
}

/* A callee under a random prefix (padded to 11..12 digits); 5% of numbers
 * start with 0 and match nothing. Durations: 40% unanswered, others exp. */
static void gen_cdr(struct sy_rng *r, const struct pfx *p, size_t n, struct bcdr *c)
{
	size_t l;
	if (sy_rng_chance_ppm(r, 50000)) {
		c->num[0] = '0';
		l = 1;
	} else {
		const char *d = p[sy_rng_below(r, n)].d;
		l = strlen(d);
		memcpy(c->num, d, l);
	}
	size_t want = 11 + sy_rng_below(r, 2);
	for (; l < want; l++)
		c->num[l] = (char)('0' + sy_rng_below(r, 10));
	c->num[l] = '\0';
	c->dur_ms = sy_rng_chance_ppm(r, 400000) ? 0 : (uint32_t)sy_rng_exp(r, 90000.0) + 1;
	c->at_s = (uint32_t)sy_rng_below(r, 7 * 86400);
}

static void fill_cdr(struct cdr *c, const struct bcdr *b, uint64_t i)
{
	memset(c, 0, sizeof *c);
	c->id = i + 1;
	c->answer_ns = b->dur_ms ? (EPOCH_2024 + b->at_s) * SY_NS_PER_S : 0;
	c->start_ns = (EPOCH_2024 + b->at_s) * SY_NS_PER_S - 2 * SY_NS_PER_S;
	c->end_ns = c->start_ns + 2 * SY_NS_PER_S + (uint64_t)b->dur_ms * SY_NS_PER_MS;
	c->duration_ms = b->dur_ms;
	c->pdd_ms = 150;
	c->disposition = b->dur_ms ? CDR_DISP_ANSWERED : CDR_DISP_NO_ANSWER;
	c->sip_status = b->dur_ms ? 200 : 480;
	c->hangup = CDR_SIDE_CALLER;
	CDR_SET_STR(c, carrier, SY_STR("tier1"));
	CDR_SET_STR(c, caller, SY_STR("+442071234567"));
	CDR_SET_STR(c, callee, sy_str_from(b->num));
	snprintf(c->a_call_id, sizeof c->a_call_id, "%llu-a@10.0.0.1", (unsigned long long)i);
	snprintf(c->b_call_id, sizeof c->b_call_id, "%llu-b@10.0.0.2", (unsigned long long)i);
}

/* Writes rows CDRs to a temp file, rates it into another, prints the line. */
static int bench_csv(const struct bill_tariff *t, const struct bcdr *cdrs, size_t rows)
{
	char in_path[] = "/tmp/sy_bench_rate_in.XXXXXX", out_path[] = "/tmp/sy_bench_rate_out.XXXXXX";
	int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path);
	if (in_fd < 0 || out_fd < 0) {
		perror("mkstemp");
		return 1;
	}
	FILE *f = fdopen(in_fd, "w");
	fputs(cdr_csv_header, f);
	static char line[CDR_CSV_LINE_MAX];
	struct cdr c;
	for (size_t i = 0; i < rows; i++) {
		fill_cdr(&c, &cdrs[i], i);
		fwrite(line, 1, cdr_csv_line(&c, line), f);
	}
	fflush(f);
	off_t bytes = lseek(in_fd, 0, SEEK_END);
	lseek(in_fd, 0, SEEK_SET);
	struct bill_batch_stats st;
	uint64_t t0 = mono_ns();
	const struct sy_env *env = sy_live_files();
	struct sy_file *in_f = NULL, *out_f = NULL;
	enum sy_rc rc = sy_env_file_open(env, in_path, SY_FILE_READ, &in_f);
	if (rc == SY_OK)
		rc = sy_env_file_open(env, out_path, SY_FILE_WRITE | SY_FILE_CREATE, &out_f);
	if (rc == SY_OK)
		rc = bill_rate_csv(t, env, in_f, in_path, out_f, NULL, NULL, &st);
	double wall = (double)(mono_ns() - t0) / 1e9;
	if (in_f != NULL)
		sy_env_file_close(env, in_f);
	if (out_f != NULL)
		sy_env_file_close(env, out_f);
	fclose(f);
	close(out_fd);
	unlink(in_path);
	unlink(out_path);
	if (rc != SY_OK || st.rows != rows || st.bad != 0) {
		fprintf(stderr, "rating-csv: rc %s, rows %llu, bad %llu\n", sy_rc_str(rc), (unsigned long long)st.rows,
			(unsigned long long)st.bad);
		return 1;
	}
	printf("{\"bench\":\"rating-csv\",\"cdrs\":%zu,\"bytes\":%lld,\"wall_s\":%.3f,\"cdrs_per_s\":%.0f,"
	       "\"mb_per_s\":%.0f,\"rated\":%llu,\"cost_micros\":%lld}\n",
	       rows, (long long)bytes, wall, (double)rows / wall, (double)bytes / wall / 1e6,
	       (unsigned long long)st.rated, (long long)st.cost_micros);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n_cdr = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	size_t n_pfx = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	size_t n_csv = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
	n_csv = SY_MIN(n_csv, n_cdr);
	struct sy_rng r;
	sy_rng_init(&r, 42);
	struct pfx *p = gen_prefixes(&r, n_pfx);
	size_t csv_len;
	char *csv = gen_tariff_csv(&r, p, n_pfx, &csv_len);
	struct bcdr *cdrs = malloc(n_cdr * sizeof *cdrs);
	for (size_t i = 0; i < n_cdr; i++)
		gen_cdr(&r, p, n_pfx, &cdrs[i]);
	char err[BILL_ERR_MAX];
	struct bill_tariff t;
	struct bill_tariff_opts o = {.err = err, .err_len = sizeof err};
	uint64_t t0 = mono_ns();
	if (bill_tariff_load_mem(&t, "generated", csv, csv_len, &o) != SY_OK) {
		fprintf(stderr, "rating: %s\n", err);
		return 1;
	}
	double load_s = (double)(mono_ns() - t0) / 1e9;
	free(csv);
	uint64_t rated = 0;
	int64_t cost = 0;
	/* One call at a time (the per-call path), then in batches. */
	size_t n_one = n_cdr / 10;
	t0 = mono_ns();
	for (size_t i = 0; i < n_one; i++) {
		struct bill_rating rt;
		(void)bill_rate_call(&t, sy_str_from(cdrs[i].num), EPOCH_2024 + cdrs[i].at_s, cdrs[i].dur_ms, &rt);
		cost += rt.cost_micros;
	}
	double one_ns = (double)(mono_ns() - t0) / (double)SY_MAX(n_one, 1);
	cost = 0;
	enum { CHUNK = 1024 };
	static struct bill_call calls[CHUNK];
	static struct bill_rating out[CHUNK];
	t0 = mono_ns();
	for (size_t i = 0; i < n_cdr; i += CHUNK) {
		size_t k = SY_MIN((size_t)CHUNK, n_cdr - i);
		for (size_t j = 0; j < k; j++)
			calls[j] = (struct bill_call){sy_str_from(cdrs[i + j].num), EPOCH_2024 + cdrs[i + j].at_s,
						      cdrs[i + j].dur_ms};
		rated += bill_rate_calls(&t, calls, k, out);
		for (size_t j = 0; j < k; j++)
			cost += out[j].cost_micros;
	}
	double wall = (double)(mono_ns() - t0) / 1e9;
	printf("{\"bench\":\"rating\",\"cdrs\":%zu,\"prefixes\":%zu,\"entries\":%u,\"trie_nodes\":%u,"
	       "\"load_s\":%.3f,\"wall_s\":%.3f,\"cdrs_per_s\":%.0f,\"ns_per_cdr\":%.1f,\"rated\":%llu,"
	       "\"cost_micros\":%lld,\"single_ns_per_cdr\":%.0f,\"rss_mb\":%ld}\n",
	       n_cdr, n_pfx, t.n, t.trie.node_n, load_s, wall, (double)n_cdr / wall, wall * 1e9 / (double)n_cdr,
	       (unsigned long long)rated, (long long)cost, one_ns, rss_mb());
	fflush(stdout);
	int rc = bench_csv(&t, cdrs, n_csv);
	bill_tariff_free(&t);
	free(cdrs);
	free(p);
	return rc;
}
