/* fraud_ranges_fuzz.c: libFuzzer harness on the risk ranges loader and the
 * number checks (core/fraud/ranges.c, numcheck.c). The input is a ranges
 * file; when it loads, every entry's own prefix must look up to itself,
 * every slice must lie in the table, and each input line is then used as a
 * dialed number: its match must be a prefix of the normalised number, and
 * the number checks must agree with their definitions. When it does not
 * load, the message must name the file and a line. Built by `make fuzz`;
 * the corpus replays in `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fraud/numcheck.h"
#include "core/fraud/ranges.h"

static bool inside(struct sy_str s, const struct fraud_ranges *t)
{
	return s.len == 0 || (s.p >= t->text && s.p + s.len <= t->text + t->text_len);
}

static void check_table(const struct fraud_ranges *t)
{
	SY_ASSERT(t->refs == 1 && t->n <= 1000);
	for (uint32_t i = 0; i < t->n; i++) {
		struct sy_str p = fraud_ranges_prefix(t, i), l = fraud_ranges_label(t, i);
		SY_ASSERT(inside(p, t) && inside(l, t));
		SY_ASSERT(p.len >= 1 && p.len <= FRAUD_PREFIX_MAX && l.len <= FRAUD_LABEL_MAX);
		SY_ASSERT(t->e[i].risk < FRAUD_RISK_COUNT);
		SY_ASSERT(i == 0 || t->e[i - 1].line < t->e[i].line);
		struct fraud_range_hit h;
		SY_ASSERT(fraud_ranges_lookup(t, NULL, p, &h));
		SY_ASSERT(sy_str_eq(h.prefix, p) && h.line == t->e[i].line && h.risk == t->e[i].risk);
	}
}

/* One input line as a dialed number against the table. */
static void check_number(const struct fraud_ranges *t, const struct fraud_num_cfg *cfg, struct sy_str num)
{
	struct sy_str d = fraud_num_norm(cfg, num);
	SY_ASSERT(d.p + d.len == num.p + num.len && d.len <= num.len);
	struct fraud_range_hit h;
	if (fraud_ranges_lookup(t, cfg, num, &h)) {
		SY_ASSERT(h.prefix.len <= d.len && memcmp(h.prefix.p, d.p, h.prefix.len) == 0);
		SY_ASSERT(inside(h.prefix, t) && inside(h.label, t) && h.line > 0);
	} else {
		SY_ASSERT(h.risk == FRAUD_RISK_NONE && h.prefix.len == 0 && h.line == 0);
	}
	size_t cc;
	enum fraud_num_verdict v = fraud_num_check(cfg, num, &cc);
	SY_ASSERT(v < FRAUD_NUM_VERDICT_COUNT && cc <= 3);
	if (v == FRAUD_NUM_OK) {
		SY_ASSERT(d.len >= FRAUD_NUM_MIN && d.len <= FRAUD_NUM_MAX && cc == fraud_num_cc_len(d) && cc > 0);
		for (size_t i = 0; i < d.len; i++)
			SY_ASSERT(d.p[i] >= '0' && d.p[i] <= '9');
	}
	SY_ASSERT(fraud_num_same(cfg, num, num) == (d.len > 0));
	struct sy_str own[4];
	size_t n = SY_MIN(t->n, 4u);
	for (size_t i = 0; i < n; i++)
		own[i] = fraud_ranges_prefix(t, (uint32_t)i);
	bool in = fraud_num_in_prefixes(cfg, num, own, n);
	bool want = false;
	for (size_t i = 0; i < n; i++) { /* the prefixes are normalised too */
		struct sy_str p = fraud_num_norm(cfg, own[i]);
		want |= p.len > 0 && p.len <= d.len && memcmp(p.p, d.p, p.len) == 0;
	}
	SY_ASSERT(in == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the international prefix: none, 00 or 011. */
	static const char *const intl[] = {"", "00", "011"};
	struct fraud_num_cfg cfg = {0};
	if (size > 0)
		SY_ASSERT(fraud_num_cfg_set_intl(&cfg, sy_str_from(intl[data[0] % 3])) == SY_OK);
	char *in = malloc(size ? size : 1), err[FRAUD_ERR_MAX];
	memcpy(in, data, size);
	err[0] = '\0';
	struct fraud_ranges_opts o = {.max_prefixes = 1000, .err = err, .err_len = sizeof err};
	struct fraud_ranges *t;
	enum sy_rc rc = fraud_ranges_load_mem("f.csv", in, size, &o, &t);
	if (rc != SY_OK) {
		SY_ASSERT(rc == SY_ERR_PARSE && t == NULL && strncmp(err, "f.csv:", 6) == 0);
		unsigned line;
		SY_ASSERT(sscanf(err, "f.csv:%u: ", &line) == 1 && line >= 1);
		free(in);
		return 0;
	}
	check_table(t);
	for (size_t pos = 0; pos < size;) {
		const char *nl = memchr(in + pos, '\n', size - pos);
		size_t end = nl != NULL ? (size_t)(nl - in) : size;
		check_number(t, &cfg, (struct sy_str){in + pos, end - pos});
		pos = end + 1;
	}
	fraud_ranges_release(t);
	free(in);
	return 0;
}
