/* ranges.c: the risk ranges loader, lookup and generations (ranges.h).
 *
 * The prefix trie is core/route's (route_trie): the same longest-prefix
 * walk billing uses for millions of tariff prefixes, with nodes in one
 * array (no per-node malloc, freed in one step), which is what a table
 * swapped in whole on reload wants. Entries and the text arena follow
 * tariff.c's layout: one array of small entries, prefixes and labels
 * copied into one growable buffer. */
#include "core/fraud/ranges.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const risk_names[FRAUD_RISK_COUNT] = {"none", "low", "medium", "high", "premium", "blocked"};

const char *fraud_risk_name(enum fraud_risk r)
{
	return (unsigned)r < FRAUD_RISK_COUNT ? risk_names[r] : "?";
}

bool fraud_risk_parse(struct sy_str s, enum fraud_risk *out)
{
	for (unsigned r = 0; r < FRAUD_RISK_COUNT; r++) {
		if (sy_str_ieq(s, sy_str_from(risk_names[r]))) {
			*out = (enum fraud_risk)r;
			return true;
		}
	}
	return false;
}

struct rload {
	struct fraud_ranges *t;
	const struct fraud_ranges_opts *o;
	const char *name;
	uint32_t line, max;
	bool data_seen; /* a header is accepted before the first data line only */
};

/* "name:line: message" into the caller's err buffer; SY_ERR_PARSE. */
#define rload_err(ld, ...) sy_parse_err((ld)->o->err, (ld)->o->err_len, (ld)->name, (ld)->line, __VA_ARGS__)

/* A field quoted in a message: at most 32 bytes, so a binary line cannot
 * flood the log. */
#define FLD(s) (int)SY_MIN((s).len, 32), (s).p


/* Splits s at its first comma: the field before it (trimmed) is returned,
 * s keeps what follows. has_comma says whether there was one. */
static struct sy_str cut(struct sy_str *s, bool *has_comma)
{
	const char *c = s->len > 0 ? memchr(s->p, ',', s->len) : NULL;
	*has_comma = c != NULL;
	struct sy_str f = {s->p, c != NULL ? (size_t)(c - s->p) : s->len};
	*s = c != NULL ? (struct sy_str){c + 1, s->len - f.len - 1} : SY_STR_NULL;
	return sy_str_trim_blank(f);
}

static bool is_header(struct sy_str line)
{
	return sy_str_ieq(line, SY_STR("prefix,class")) || sy_str_ieq(line, SY_STR("prefix,class,label"));
}

static enum sy_rc text_put(struct fraud_ranges *t, struct sy_str s)
{
	if (t->text_len + s.len > t->text_cap) {
		uint32_t cap = SY_MAX(t->text_cap * 2, 4096u);
		while (cap < t->text_len + s.len)
			cap *= 2;
		char *p = realloc(t->text, cap);
		if (p == NULL)
			return SY_ERR_NOMEM;
		t->text = p;
		t->text_cap = cap;
	}
	if (s.len > 0)
		memcpy(t->text + t->text_len, s.p, s.len);
	t->text_len += (uint32_t)s.len;
	return SY_OK;
}

static enum sy_rc entry_add(struct fraud_ranges *t, struct sy_str prefix, struct sy_str label, enum fraud_risk risk,
			    uint32_t line)
{
	if (t->n == t->cap) {
		uint32_t cap = SY_MAX(t->cap * 2, 64u);
		struct fraud_range_entry *e = realloc(t->e, (size_t)cap * sizeof *e);
		if (e == NULL)
			return SY_ERR_NOMEM;
		t->e = e;
		t->cap = cap;
	}
	struct fraud_range_entry *e = &t->e[t->n];
	*e = (struct fraud_range_entry){.text_off = t->text_len,
					.line = line,
					.prefix_len = (uint8_t)prefix.len,
					.label_len = (uint8_t)label.len,
					.risk = (uint8_t)risk};
	enum sy_rc rc = text_put(t, prefix);
	if (rc == SY_OK)
		rc = text_put(t, label);
	if (rc == SY_OK)
		rc = route_add(&t->trie, prefix, t->n);
	if (rc != SY_OK)
		return rc == SY_ERR_INVAL ? SY_ERR_PARSE : SY_ERR_NOMEM;
	t->n++;
	return SY_OK;
}

static enum sy_rc check_prefix(struct rload *ld, struct sy_str *p)
{
	struct sy_str raw = *p;
	if (p->len > 0 && p->p[0] == '+')
		p->p++, p->len--;
	if (p->len == 0)
		return rload_err(ld, "empty prefix '%.*s' (want digits, with or without a leading +)", FLD(raw));
	for (size_t i = 0; i < p->len; i++)
		if (p->p[i] < '0' || p->p[i] > '9')
			return rload_err(ld, "bad prefix '%.*s' (want digits, with or without a leading +)", FLD(raw));
	if (p->len > FRAUD_PREFIX_MAX)
		return rload_err(ld, "prefix '%.*s' is longer than %d digits", FLD(raw), FRAUD_PREFIX_MAX);
	return SY_OK;
}

static enum sy_rc check_label(struct rload *ld, struct sy_str label)
{
	if (label.len > FRAUD_LABEL_MAX)
		return rload_err(ld, "label is longer than %d bytes", FRAUD_LABEL_MAX);
	for (size_t i = 0; i < label.len; i++) {
		unsigned char c = (unsigned char)label.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return rload_err(ld, "control character 0x%02x in the label", c);
	}
	return SY_OK;
}

/* A prefix seen before: the same class is harmless (counted), another is
 * a contradiction the operator must resolve. */
static enum sy_rc check_dup(struct rload *ld, struct sy_str prefix, enum fraud_risk risk, bool *dup)
{
	uint32_t v;
	size_t len;
	*dup = route_lookup(&ld->t->trie, prefix, &v, &len) && len == prefix.len;
	if (!*dup)
		return SY_OK;
	const struct fraud_range_entry *e = &ld->t->e[v];
	if (e->risk == risk) {
		ld->t->dup_n++;
		return SY_OK;
	}
	return rload_err(ld, "prefix +%.*s repeats line %u with another class (%s here, %s there)", FLD(prefix),
			 e->line, fraud_risk_name(risk), fraud_risk_name((enum fraud_risk)e->risk));
}

static enum sy_rc rload_line(struct rload *ld, struct sy_str line)
{
	line = sy_str_trim_blank(line);
	if (line.len == 0 || line.p[0] == '#')
		return SY_OK;
	if (line.len > FRAUD_LINE_MAX)
		return rload_err(ld, "line is longer than %d bytes", FRAUD_LINE_MAX);
	if (!ld->data_seen && is_header(line)) {
		ld->data_seen = true;
		return SY_OK;
	}
	ld->data_seen = true;
	bool comma;
	struct sy_str rest = line;
	struct sy_str prefix = cut(&rest, &comma);
	if (!comma)
		return rload_err(ld, "want 'prefix,class[,label]' (got '%.*s')", FLD(line));
	struct sy_str cls = cut(&rest, &comma);
	struct sy_str label = sy_str_trim_blank(rest);
	enum fraud_risk risk;
	enum sy_rc rc = check_prefix(ld, &prefix);
	if (rc != SY_OK)
		return rc;
	if (!fraud_risk_parse(cls, &risk))
		return rload_err(ld, "unknown class '%.*s' (want none, low, medium, high, premium or blocked)",
				 FLD(cls));
	if ((rc = check_label(ld, label)) != SY_OK)
		return rc;
	bool dup;
	if ((rc = check_dup(ld, prefix, risk, &dup)) != SY_OK || dup)
		return rc;
	if (ld->t->n >= ld->max)
		return rload_err(ld, "more than %u prefixes (max_prefixes)", ld->max);
	rc = entry_add(ld->t, prefix, label, risk, ld->line);
	if (rc == SY_ERR_NOMEM)
		rload_err(ld, "out of memory");
	return rc;
}

static void ranges_free(struct fraud_ranges *t)
{
	if (t->trie.nodes != NULL)
		route_trie_free(&t->trie);
	free(t->e);
	free(t->text);
	free(t);
}

/* A loaded table never grows again: give back the doubling slack of its
 * three arrays (a failed realloc keeps the larger block). */
static void shrink(struct fraud_ranges *t)
{
	struct route_node *nodes = realloc(t->trie.nodes, (size_t)t->trie.node_n * sizeof *nodes);
	if (nodes != NULL) {
		t->trie.nodes = nodes;
		t->trie.node_cap = t->trie.node_n;
	}
	struct fraud_range_entry *e = t->n > 0 ? realloc(t->e, (size_t)t->n * sizeof *e) : NULL;
	if (e != NULL) {
		t->e = e;
		t->cap = t->n;
	}
	char *text = t->text_len > 0 ? realloc(t->text, t->text_len) : NULL;
	if (text != NULL) {
		t->text = text;
		t->text_cap = t->text_len;
	}
}

enum sy_rc fraud_ranges_load_mem(const char *name, const char *buf, size_t len, const struct fraud_ranges_opts *opts,
				 struct fraud_ranges **out)
{
	static const struct fraud_ranges_opts no_opts;
	struct rload ld = {.o = opts != NULL ? opts : &no_opts, .name = name};
	ld.max = ld.o->max_prefixes != 0 ? ld.o->max_prefixes : FRAUD_RANGES_DEFAULT;
	*out = NULL;
	enum sy_rc rc = SY_ERR_NOMEM;
	ld.t = calloc(1, sizeof *ld.t);
	if (ld.t == NULL || route_trie_init(&ld.t->trie, 0) != SY_OK)
		goto fail;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		ld.line++;
		rc = rload_line(&ld, (struct sy_str){buf + pos, end - pos});
		if (rc != SY_OK)
			goto fail;
		pos = end + 1;
	}
	shrink(ld.t);
	ld.t->refs = 1;
	*out = ld.t;
	return SY_OK;
fail:
	if (rc == SY_ERR_NOMEM && ld.line == 0 && ld.o->err != NULL && ld.o->err_len > 0)
		snprintf(ld.o->err, ld.o->err_len, "%s: out of memory", name);
	if (ld.t != NULL)
		ranges_free(ld.t);
	return rc;
}

enum sy_rc fraud_ranges_load_file(const struct sy_env *env, const char *path, const struct fraud_ranges_opts *opts,
				  struct fraud_ranges **out)
{
	char *buf = NULL;
	size_t len = 0;
	*out = NULL;
	enum sy_rc rc = sy_env_file_slurp(env, path, FRAUD_RANGES_FILE_MAX, &buf, &len);
	if (rc != SY_OK) {
		if (opts != NULL && opts->err != NULL && opts->err_len > 0)
			snprintf(opts->err, opts->err_len, "%s: cannot read the ranges file: %s", path,
				 rc == SY_ERR_FULL ? "larger than 64 MiB" : sy_env_file_err(rc));
		return SY_ERR_IO;
	}
	rc = fraud_ranges_load_mem(path, buf, len, opts, out);
	free(buf);
	return rc;
}

struct fraud_ranges *fraud_ranges_hold(struct fraud_ranges *t)
{
	SY_ASSERT(t != NULL && t->refs > 0 && t->refs < UINT32_MAX);
	t->refs++;
	return t;
}

void fraud_ranges_release(struct fraud_ranges *t)
{
	if (t == NULL)
		return;
	SY_ASSERT(t->refs > 0);
	if (--t->refs == 0)
		ranges_free(t);
}

bool fraud_ranges_lookup(const struct fraud_ranges *t, const struct fraud_num_cfg *cfg, struct sy_str number,
			 struct fraud_range_hit *hit)
{
	*hit = (struct fraud_range_hit){.risk = FRAUD_RISK_NONE};
	uint32_t v;
	size_t len;
	if (t == NULL || !route_lookup(&t->trie, fraud_num_norm(cfg, number), &v, &len))
		return false;
	SY_ASSERT(v < t->n && len == t->e[v].prefix_len);
	hit->risk = (enum fraud_risk)t->e[v].risk;
	hit->prefix = fraud_ranges_prefix(t, v);
	hit->label = fraud_ranges_label(t, v);
	hit->line = t->e[v].line;
	return true;
}

struct sy_str fraud_ranges_prefix(const struct fraud_ranges *t, uint32_t i)
{
	SY_ASSERT(i < t->n);
	return (struct sy_str){t->text + t->e[i].text_off, t->e[i].prefix_len};
}

struct sy_str fraud_ranges_label(const struct fraud_ranges *t, uint32_t i)
{
	SY_ASSERT(i < t->n);
	const struct fraud_range_entry *e = &t->e[i];
	return (struct sy_str){t->text + e->text_off + e->prefix_len, e->label_len};
}

size_t fraud_ranges_bytes(const struct fraud_ranges *t)
{
	return (size_t)t->trie.node_cap * sizeof(struct route_node) +
	       (size_t)t->cap * sizeof(struct fraud_range_entry) + t->text_cap;
}

void fraud_ranges_set_swap(struct fraud_ranges_set *s, struct fraud_ranges *t)
{
	SY_ASSERT(t != NULL && t->refs > 0 && t != s->cur);
	t->generation = ++s->generation;
	struct fraud_ranges *old = s->cur;
	s->cur = t;
	fraud_ranges_release(old);
}

enum sy_rc fraud_ranges_set_reload(struct fraud_ranges_set *s, const struct sy_env *env, const char *path,
				   const struct fraud_ranges_opts *opts)
{
	struct fraud_ranges *t;
	enum sy_rc rc = fraud_ranges_load_file(env, path, opts, &t);
	if (rc != SY_OK) {
		s->reload_failed++;
		return rc;
	}
	fraud_ranges_set_swap(s, t);
	return SY_OK;
}

void fraud_ranges_set_free(struct fraud_ranges_set *s)
{
	fraud_ranges_release(s->cur);
	*s = (struct fraud_ranges_set){0};
}
