/* rate.c: the charge arithmetic and the batch CDR re-rater (rate.h). The
 * batch path parses CSV by hand in one large buffer, writes into another,
 * and copies each row's untouched columns as one block: no per-row malloc,
 * no stdio, two env file operations per 4 MB. */
#include "core/billing/rate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/store/cdr.h"

int64_t bill_charge_call(const struct bill_tariff_entry *e, uint32_t duration_ms, uint32_t *rated_ms)
{
	if (duration_ms == 0) {
		*rated_ms = 0;
		return 0;
	}
	uint64_t s = duration_ms / 1000 + (duration_ms % 1000 != 0); /* a started second counts */
	uint64_t billed = e->first_s;
	if (s > e->first_s) {
		uint64_t rest = s - e->first_s;
		billed += (rest + e->next_s - 1) / e->next_s * e->next_s;
	}
	billed = SY_MAX(billed, (uint64_t)e->min_s);
	uint64_t ms = billed * 1000;
	*rated_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	/* rate <= BILL_RATE_MAX (1e12) and billed < 4.4e6 s: the product fits. */
	return e->fee_micros + money_mul_div_ceil(e->rate_micros, (int64_t)billed, 60);
}

static void rating_fill(const struct bill_tariff *t, const struct bill_tariff_entry *e, uint32_t duration_ms,
			struct bill_rating *out);

enum sy_rc bill_rate_call(const struct bill_tariff *t, struct sy_str number, uint64_t answer_epoch_s,
			  uint32_t duration_ms, struct bill_rating *out)
{
	const struct bill_tariff_entry *e = bill_tariff_lookup(t, BILL_SVC_VOICE, number, answer_epoch_s);
	rating_fill(t, e, duration_ms, out);
	return e != NULL ? SY_OK : SY_ERR_NOTFOUND;
}

static void rating_fill(const struct bill_tariff *t, const struct bill_tariff_entry *e, uint32_t duration_ms,
			struct bill_rating *out)
{
#ifdef SY_PERF_GATE_SLOWDOWN
	/* Only in the perf gate's own test build (tests/it_perf_gate.sh): a
	 * calibrated busy loop, ~10% of a rated CDR, that the gate must catch. */
	for (volatile unsigned spin = 0; spin < SY_PERF_GATE_SLOWDOWN; spin++)
		;
#endif
	memset(out, 0, sizeof *out);
	if (e == NULL)
		return;
	out->cost_micros = bill_charge_call(e, duration_ms, &out->rated_ms);
	out->tariff_id = bill_tariff_id(t, e);
	out->band = e->band;
}

size_t bill_rate_calls(const struct bill_tariff *t, const struct bill_call *calls, size_t n, struct bill_rating *out)
{
	struct sy_str num[BILL_LOOKUP_LANES];
	uint64_t at[BILL_LOOKUP_LANES];
	const struct bill_tariff_entry *e[BILL_LOOKUP_LANES];
	size_t rated = 0;
	for (size_t i = 0; i < n; i += BILL_LOOKUP_LANES) {
		size_t k = SY_MIN(n - i, (size_t)BILL_LOOKUP_LANES);
		for (size_t j = 0; j < k; j++) {
			num[j] = calls[i + j].number;
			at[j] = calls[i + j].answer_epoch_s;
		}
		bill_tariff_lookup_many(t, BILL_SVC_VOICE, num, at, k, e);
		for (size_t j = 0; j < k; j++) {
			rating_fill(t, e[j], calls[i + j].duration_ms, &out[i + j]);
			rated += e[j] != NULL;
		}
	}
	return rated;
}

enum sy_rc bill_rate_event(const struct bill_tariff *t, enum bill_service svc, struct sy_str number, uint64_t epoch_s,
			   uint32_t count, struct bill_rating *out)
{
	memset(out, 0, sizeof *out);
	if (svc == BILL_SVC_VOICE || (unsigned)svc >= BILL_SVC_COUNT || count > BILL_EVENTS_MAX)
		return SY_ERR_INVAL;
	const struct bill_tariff_entry *e = bill_tariff_lookup(t, svc, number, epoch_s);
	if (e == NULL)
		return SY_ERR_NOTFOUND;
	out->cost_micros = count == 0 ? 0 : e->fee_micros + e->rate_micros * (int64_t)count;
	out->tariff_id = bill_tariff_id(t, e);
	out->band = e->band;
	return SY_OK;
}

static bool digits_at(const char *p, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return true;
}

bool bill_parse_iso8601(struct sy_str s, uint64_t *epoch_s)
{
	static const char sep[] = "--T::.Z"; /* the character at each of at[] */
	static const unsigned at[] = {4, 7, 10, 13, 16, 19, 23};
	unsigned y, mo, d, h, mi, sec, ms;
	if (s.len != CDR_ISO8601_LEN)
		return false;
	for (size_t k = 0; k < SY_ARRAY_LEN(at); k++)
		if (s.p[at[k]] != sep[k])
			return false;
	if (!digits_at(s.p, 4, &y) || !digits_at(s.p + 5, 2, &mo) || !digits_at(s.p + 8, 2, &d) ||
	    !digits_at(s.p + 11, 2, &h) || !digits_at(s.p + 14, 2, &mi) || !digits_at(s.p + 17, 2, &sec) ||
	    !digits_at(s.p + 20, 3, &ms))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	/* Howard Hinnant's days_from_civil, the inverse of cdr.c's civil. */
	uint64_t yy = y - (mo <= 2);
	uint64_t era = yy / 400, yoe = yy - era * 400;
	uint64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	uint64_t days = era * 146097 + doe - 719468;
	*epoch_s = days * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

/* The service code's digits as the tariff's number: "*123#" -> "123". */
static size_t ussd_code_digits(struct sy_str code, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < code.len && n + 1 < cap; i++)
		if (code.p[i] >= '0' && code.p[i] <= '9')
			out[n++] = code.p[i];
	out[n] = '\0';
	return n;
}

int64_t bill_rate_ussd(const struct bill_tariff *t, struct sy_str code, uint64_t epoch_s, uint32_t n,
		       int64_t flat_micros)
{
	if (n == 0)
		return 0;
	char num[ROUTE_DIGITS_MAX];
	size_t len = ussd_code_digits(code, num, sizeof(num));
	struct bill_rating r;
	if (t != NULL && len > 0 &&
	    bill_rate_event(t, BILL_SVC_USSD, (struct sy_str){num, len}, epoch_s, n, &r) == SY_OK)
		return r.cost_micros;
	return flat_micros > 0 ? flat_micros * (int64_t)n : -1;
}

/* ---- batch ---- */

#define CDR_COLS     20 /* cdr_csv_header */
#define CDR_COLS_V2  18 /* the header without ",fraud,fraud_reason" (before issue 12) */
#define COL_START    1
#define COL_ANSWER   2
#define COL_DURATION 4
#define COL_CALLEE   10
#define COL_COST     15 /* then tariff_id, rated_ms */
#define COL_FRAUD    18 /* fraud, fraud_reason: copied as they are */

struct rec {
	const char *f[CDR_COLS];
	uint32_t flen[CDR_COLS];
	size_t nf;
	size_t len;	 /* bytes of the record with its newline */
	uint32_t lines;	 /* physical lines (quoted fields may hold newlines) */
	bool open_quote; /* the input ended inside a quoted field */
};

enum rec_scan { REC_OK, REC_MORE };

/* Splits the record at p into fields (RFC 4180). REC_MORE when the buffer
 * ends inside it and more input may come; at eof the end closes it. */
static enum rec_scan rec_scan(const char *p, const char *end, bool eof, struct rec *r)
{
	const char *s = p;
	r->nf = 0;
	r->lines = 1;
	r->open_quote = false;
	for (;;) {
		const char *fs = s;
		if (s < end && *s == '"') {
			for (s++;; s++) {
				if (s >= end || (s + 1 == end && *s == '"' && !eof)) {
					r->open_quote = s >= end;
					goto out_short;
				}
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
				else if (*s == '\n')
					r->lines++;
			}
		}
		while (s < end && *s != ',' && *s != '\n')
			s++;
		if (r->nf < CDR_COLS) {
			r->f[r->nf] = fs;
			r->flen[r->nf] = (uint32_t)(s - fs);
		}
		r->nf++;
		if (s >= end)
			goto out_short;
		if (*s == '\n') {
			r->len = (size_t)(s + 1 - p);
			break;
		}
		s++;
	}
	if (r->nf <= CDR_COLS && r->flen[r->nf - 1] > 0 && r->f[r->nf - 1][r->flen[r->nf - 1] - 1] == '\r')
		r->flen[r->nf - 1]--;
	return REC_OK;
out_short:
	if (!eof)
		return REC_MORE;
	r->len = (size_t)(end - p);
	if (r->nf == 0 || r->nf > CDR_COLS)
		return REC_OK;
	r->flen[r->nf - 1] = (uint32_t)(end - r->f[r->nf - 1]);
	return REC_OK;
}

struct batch {
	const struct bill_tariff *t;
	const char *name;
	bill_batch_err_fn err;
	void *err_arg;
	struct bill_batch_stats *st;
	uint64_t line;
	const struct sy_env *env;
	struct sy_file *in_f, *out_f;
	uint64_t in_off, out_off; /* where the next read and write go */
	char *out;
	size_t out_len;
	size_t cols; /* CDR_COLS, or CDR_COLS_V2 for a file from before the fraud columns */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
batch_err(struct batch *b, const char *fmt, ...)
{
	char msg[BILL_ERR_MAX];
	int n = snprintf(msg, sizeof msg, "%s:%llu: ", b->name, (unsigned long long)b->line);
	if (n < 0 || (size_t)n >= sizeof msg)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (b->err != NULL)
		b->err(b->err_arg, msg);
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static bool parse_u32(const char *p, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

#define RF(r, i) ((struct sy_str){(r)->f[i], (r)->flen[i]})
#define FLD(s)	 (int)SY_MIN((s).len, 40), (s).p

/* Checks one data row and extracts what rating needs. False: reported. */
static bool batch_parse(struct batch *b, const struct rec *r, struct bill_call *c)
{
	uint64_t start_s, answer_s = 0;
	if (r->open_quote) {
		batch_err(b, "unterminated quote");
		return false;
	}
	if (r->nf != b->cols) {
		batch_err(b, "expected %zu fields, got %zu", b->cols, r->nf);
		return false;
	}
	if (!bill_parse_iso8601(RF(r, COL_START), &start_s)) {
		batch_err(b, "bad start '%.*s'", FLD(RF(r, COL_START)));
		return false;
	}
	if (r->flen[COL_ANSWER] > 0 && !bill_parse_iso8601(RF(r, COL_ANSWER), &answer_s)) {
		batch_err(b, "bad answer '%.*s'", FLD(RF(r, COL_ANSWER)));
		return false;
	}
	if (!parse_u32(r->f[COL_DURATION], r->flen[COL_DURATION], &c->duration_ms)) {
		batch_err(b, "bad duration_ms '%.*s'", FLD(RF(r, COL_DURATION)));
		return false;
	}
	c->number = RF(r, COL_CALLEE);
	if (c->number.len > 0 && c->number.p[0] == '"') {
		c->number.p++; /* the rating walk stops at the closing quote */
		c->number.len--;
	}
	c->answer_epoch_s = r->flen[COL_ANSWER] > 0 ? answer_s : start_s;
	return true;
}

/* The row with its three rating columns replaced and the fraud columns
 * after them copied; the buffer has room (+64: the numbers may grow). */
static void batch_emit(struct batch *b, const char *p, const struct rec *r, const struct bill_rating *rt)
{
	size_t keep = (size_t)(r->f[COL_COST] - p);
	char *o = b->out + b->out_len;
	memcpy(o, p, keep);
	o += keep;
	if (rt->cost_micros < 0)
		*o++ = '-';
	o = put_u64(o, rt->cost_micros < 0 ? (uint64_t)0 - (uint64_t)rt->cost_micros : (uint64_t)rt->cost_micros);
	*o++ = ',';
	o = put_u64(o, rt->tariff_id);
	*o++ = ',';
	o = put_u64(o, rt->rated_ms);
	for (size_t i = COL_FRAUD; i < b->cols; i++) { /* as they are (a CR before the newline dropped) */
		*o++ = ',';
		memcpy(o, r->f[i], r->flen[i]);
		o += r->flen[i];
	}
	*o++ = '\n';
	b->out_len = (size_t)(o - b->out);
}

/* The current header, or the one before the fraud columns: an old file is
 * rated as it is and keeps its columns. */
static bool batch_header(struct batch *b, const char *p, const struct rec *r)
{
	size_t want = strlen(cdr_csv_header) - 1; /* without its "\n" */
	size_t old = want - strlen(",fraud,fraud_reason");
	size_t got = r->len;
	while (got > 0 && (p[got - 1] == '\n' || p[got - 1] == '\r'))
		got--;
	if ((got != want && got != old) || memcmp(p, cdr_csv_header, got) != 0) {
		batch_err(b, "not a switchyard CDR CSV: the header must be '%.*s'", (int)want, cdr_csv_header);
		return false;
	}
	b->cols = got == want ? CDR_COLS : CDR_COLS_V2;
	memcpy(b->out, cdr_csv_header, got);
	b->out[got] = '\n';
	b->out_len = got + 1;
	return true;
}

/* Refills buf from the input after moving the unread tail [*off, *have) to
 * the front. Sets *eof at end of input. */
static enum sy_rc batch_fill(struct batch *b, char *buf, size_t *off, size_t *have, bool *eof)
{
	memmove(buf, buf + *off, *have - *off);
	*have -= *off;
	*off = 0;
	size_t want = BILL_BATCH_BUF - *have, got = 0;
	enum sy_rc rc = sy_env_file_read(b->env, b->in_f, b->in_off, buf + *have, want, &got);
	if (rc != SY_OK)
		return rc;
	b->in_off += got;
	*have += got;
	*eof = got < want; /* a read is short only at the end */
	return SY_OK;
}

#define BATCH_GROUP (4 * BILL_LOOKUP_LANES)

/* Rows scanned but not yet rated: rated together so their lookups overlap. */
struct group {
	size_t n;
	size_t off[BATCH_GROUP];
	uint64_t line[BATCH_GROUP];
	bool ok[BATCH_GROUP];
	struct rec r[BATCH_GROUP];
	struct bill_call c[BATCH_GROUP];
	struct bill_rating rt[BATCH_GROUP];
};

static enum sy_rc batch_flush_out(struct batch *b, size_t need)
{
	if (BILL_BATCH_BUF - b->out_len >= need)
		return SY_OK;
	enum sy_rc rc = sy_env_file_write(b->env, b->out_f, b->out_off, b->out, b->out_len);
	if (rc != SY_OK) {
		batch_err(b, "write: %s", sy_env_file_err(rc));
		return SY_ERR_IO;
	}
	b->out_off += b->out_len;
	b->out_len = 0;
	return SY_OK;
}

static enum sy_rc batch_group(struct batch *b, const char *in, struct group *g)
{
	uint64_t line = b->line;
	for (size_t i = 0; i < g->n; i++) {
		b->line = g->line[i];
		g->ok[i] = batch_parse(b, &g->r[i], &g->c[i]);
		if (!g->ok[i])
			g->c[i] = (struct bill_call){SY_STR_NULL, 0, 0};
	}
	b->line = line;
	bill_rate_calls(b->t, g->c, g->n, g->rt);
	for (size_t i = 0; i < g->n; i++) {
		b->st->rows++;
		if (!g->ok[i]) {
			b->st->bad++;
			continue;
		}
		b->st->rated += g->rt[i].tariff_id != 0;
		b->st->unrated += g->rt[i].tariff_id == 0;
		b->st->cost_micros += g->rt[i].cost_micros;
		enum sy_rc rc = batch_flush_out(b, g->r[i].len + 64);
		if (rc != SY_OK)
			return rc;
		batch_emit(b, in + g->off[i], &g->r[i], &g->rt[i]);
	}
	g->n = 0;
	return SY_OK;
}

/* Scans rows into g until it is full or the buffer needs a refill. */
static bool batch_scan(struct batch *b, const char *in, size_t *off, size_t have, bool eof, bool *header,
		       struct group *g)
{
	while (g->n < BATCH_GROUP && *off < have) {
		struct rec *r = &g->r[g->n];
		if (rec_scan(in + *off, in + have, eof, r) == REC_MORE)
			return false;
		if (*header && !batch_header(b, in + *off, r))
			return true;				    /* the caller sees *header still set */
		if (!*header && !(r->nf == 1 && r->flen[0] == 0)) { /* blank lines are skipped */
			g->off[g->n] = *off;
			g->line[g->n++] = b->line;
		}
		*header = false;
		*off += r->len;
		b->line += r->lines;
	}
	return true;
}

static enum sy_rc batch_run(struct batch *b, char *in, struct group *g)
{
	size_t off = 0, have = 0;
	bool eof = false, header = true;
	b->line = 1;
	for (;;) {
		bool whole = batch_scan(b, in, &off, have, eof, &header, g);
		if (header && off < have)
			return SY_ERR_PARSE; /* batch_header reported it */
		enum sy_rc rc = batch_group(b, in, g);
		if (rc != SY_OK)
			return rc;
		if (whole && off < have)
			continue;
		if (eof && off == have)
			break;
		if (have - off >= BILL_BATCH_LINE_MAX) {
			batch_err(b, "row longer than %u bytes", BILL_BATCH_LINE_MAX);
			return SY_ERR_PARSE;
		}
		enum sy_rc e = batch_fill(b, in, &off, &have, &eof);
		if (e != SY_OK) {
			batch_err(b, "read: %s", sy_env_file_err(e));
			return SY_ERR_IO;
		}
	}
	if (header) {
		batch_err(b, "empty file: no CDR CSV header");
		return SY_ERR_PARSE;
	}
	enum sy_rc rc = batch_flush_out(b, BILL_BATCH_BUF);
	return rc;
}

enum sy_rc bill_rate_csv(const struct bill_tariff *t, const struct sy_env *env, struct sy_file *in_f,
			 const char *in_name, struct sy_file *out_f, bill_batch_err_fn err, void *err_arg,
			 struct bill_batch_stats *stats)
{
	_Static_assert(BILL_BATCH_LINE_MAX + 64 < BILL_BATCH_BUF, "a row always fits a buffer");
	memset(stats, 0, sizeof *stats);
	struct batch b = {
	    .t = t,
	    .name = in_name ? in_name : "-",
	    .err = err,
	    .err_arg = err_arg,
	    .st = stats,
	    .env = env,
	    .in_f = in_f,
	    .out_f = out_f,
	};
	char *in = malloc(BILL_BATCH_BUF);
	struct group *g = malloc(sizeof *g);
	b.out = malloc(BILL_BATCH_BUF);
	enum sy_rc rc = SY_ERR_NOMEM;
	if (in != NULL && g != NULL && b.out != NULL) {
		g->n = 0;
		rc = batch_run(&b, in, g);
	} else {
		batch_err(&b, "out of memory");
	}
	free(in);
	free(g);
	free(b.out);
	return rc;
}
