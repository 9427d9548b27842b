/* parse.c: the scenario parser's engine (scn_ext.h): lines, sections and
 * keys dispatched through tables, the node's (scn.c) first, then each
 * extension's. Errors are "file:line: message", the first one wins. */
#include "core/conf/scn_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define SCN_OWN_EXTS 3 /* scn_node_ext, scn_fraud_ext, scn_ussd_ext */

struct scn_pctx {
	struct scn *s;
	const char *file;
	uint32_t line;
	char *err;
	size_t errlen;
	const struct scn_ext
	    *exts[SCN_EXTS_MAX + SCN_OWN_EXTS]; /* the node's own first (scn.c, scn_fraud.c, scn_ussd.c) */
	size_t ext_n;
	const struct scn_sec_def *sec; /* current section, NULL before the first */
	void *obj;
	/* extra keys of other extensions for the current section */
	const struct scn_ext_keys *more[SCN_EXTS_MAX + SCN_OWN_EXTS];
	void *more_obj[SCN_EXTS_MAX + SCN_OWN_EXTS];
	uint64_t seen_keys;
	uint32_t sec_line;
	char label[SCN_NAME_MAX + 32]; /* "[carrier tier1]" */
	uint64_t seen_secs;	       /* single sections already opened */
};

static enum sy_rc vfail(struct scn_pctx *c, uint32_t line, const char *fmt, va_list ap)
{
	if (c->err == NULL || c->errlen == 0)
		return SY_ERR_PARSE;
	int n = snprintf(c->err, c->errlen, "%s:%u: ", c->file, line);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	return SY_ERR_PARSE;
}

enum sy_rc scn_fail_at(struct scn_pctx *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum sy_rc rc = vfail(c, line, fmt, ap);
	va_end(ap);
	return rc;
}

enum sy_rc scn_fail(struct scn_pctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum sy_rc rc = vfail(c, c->line, fmt, ap);
	va_end(ap);
	return rc;
}

enum sy_rc scn_bad(struct scn_pctx *c, const char *what, struct sy_str tok, const struct scn_key_def *k)
{
	return scn_fail(c, "bad %s '%.*s' for '%s'", what, SCN_SV(tok), k->name);
}

uint32_t scn_pctx_line(const struct scn_pctx *c)
{
	return c->line;
}

const char *scn_pctx_file(const struct scn_pctx *c)
{
	return c->file;
}

const char *scn_pctx_label(const struct scn_pctx *c)
{
	return c->label;
}

/* ---- sections ---- */

/* The extra keys (after the section's own) that follow key i of the
 * current section: which table, which key. Keys are numbered in that
 * order for the duplicate and required checks. */
static const struct scn_key_def *key_at(const struct scn_pctx *c, size_t i, size_t *ext)
{
	if (i < c->sec->key_n) {
		*ext = SIZE_MAX;
		return &c->sec->keys[i];
	}
	i -= c->sec->key_n;
	for (size_t e = 0; e < c->ext_n; e++) {
		if (c->more[e] == NULL)
			continue;
		if (i < c->more[e]->key_n) {
			*ext = e;
			return &c->more[e]->keys[i];
		}
		i -= c->more[e]->key_n;
	}
	return NULL;
}

/* Closes the open section: required keys, then its own checks. */
static enum sy_rc section_end(struct scn_pctx *c)
{
	if (c->sec == NULL)
		return SY_OK;
	size_t ext;
	const struct scn_key_def *k;
	for (size_t i = 0; (k = key_at(c, i, &ext)) != NULL; i++)
		if (k->required && !(c->seen_keys & (1ull << i)))
			return scn_fail_at(c, c->sec_line, "%s needs '%s'", c->label, k->name);
	enum sy_rc rc = c->sec->end ? c->sec->end(c, c->obj) : SY_OK;
	c->sec = NULL;
	return rc;
}

static bool section_match(const struct scn_sec_def *d, struct sy_str kind, struct sy_str name, bool *kind_known)
{
	if (!sy_str_eq(kind, sy_str_from(d->kind)))
		return false;
	*kind_known = true;
	if (d->name == NULL)
		return name.len == 0;
	if (strcmp(d->name, "*") == 0)
		return name.len > 0;
	return sy_str_eq(name, sy_str_from(d->name));
}

/* The section's table and its extension; *bit numbers it across all. */
static const struct scn_sec_def *section_find(struct scn_pctx *c, struct sy_str kind, struct sy_str name, size_t *ext,
					      uint64_t *bit)
{
	bool kind_known = false;
	size_t n = 0;
	for (size_t e = 0; e < c->ext_n; e++)
		for (size_t i = 0; i < c->exts[e]->sec_n; i++, n++)
			if (section_match(&c->exts[e]->secs[i], kind, name, &kind_known)) {
				SY_ASSERT(n < 64); /* seen_secs is a 64-bit mask */
				*ext = e;
				*bit = 1ull << n;
				return &c->exts[e]->secs[i];
			}
	if (kind_known && name.len == 0)
		scn_fail(c, "section [%.*s] needs a name", SCN_SV(kind));
	else if (name.len == 0)
		scn_fail(c, "unknown section [%.*s]", SCN_SV(kind));
	else
		scn_fail(c, "unknown section [%.*s %.*s]", SCN_SV(kind), SCN_SV(name));
	return NULL;
}

/* Other extensions' keys for the section just opened. */
static enum sy_rc section_more(struct scn_pctx *c, size_t own, struct sy_str name)
{
	size_t key_n = c->sec->key_n;
	for (size_t e = 0; e < c->ext_n; e++) {
		c->more[e] = NULL;
		for (size_t i = 0; e != own && i < c->exts[e]->keys_n; i++)
			if (strcmp(c->exts[e]->keys[i].kind, c->sec->kind) == 0)
				c->more[e] = &c->exts[e]->keys[i];
		if (c->more[e] == NULL)
			continue;
		key_n += c->more[e]->key_n;
		c->more_obj[e] = c->more[e]->begin(c, c->exts[e]->arg, name);
		if (c->more_obj[e] == NULL)
			return SY_ERR_PARSE;
	}
	SY_ASSERT(key_n <= 64); /* seen_keys is a 64-bit mask */
	return SY_OK;
}

static enum sy_rc section_open(struct scn_pctx *c, struct sy_str hdr)
{
	struct sy_str in, kind, name, extra;
	enum sy_rc rc = section_end(c);
	if (rc != SY_OK)
		return rc;
	if (hdr.p[hdr.len - 1] != ']')
		return scn_fail(c, "bad section header '%.*s'", SCN_SV(hdr));
	in = (struct sy_str){hdr.p + 1, hdr.len - 2};
	if (!scn_next_tok(&in, &kind, false))
		return scn_fail(c, "bad section header '%.*s'", SCN_SV(hdr));
	scn_next_tok(&in, &name, false);
	if (scn_next_tok(&in, &extra, false))
		return scn_fail(c, "bad section header '%.*s'", SCN_SV(hdr));
	size_t ext;
	uint64_t bit;
	const struct scn_sec_def *d = section_find(c, kind, name, &ext, &bit);
	if (d == NULL)
		return SY_ERR_PARSE;
	if (!d->multi && (c->seen_secs & bit))
		return scn_fail(c, "duplicate section %.*s", SCN_SV(hdr));
	c->seen_secs |= bit;
	snprintf(c->label, sizeof(c->label), "[%.*s%s%.*s]", SCN_SV(kind), name.len ? " " : "",
		 (int)SY_MIN(name.len, SCN_NAME_MAX), name.p);
	c->obj = d->begin(c, c->exts[ext]->arg, name);
	if (c->obj == NULL)
		return SY_ERR_PARSE;
	c->sec = d;
	c->seen_keys = 0;
	c->sec_line = c->line;
	return section_more(c, ext, name);
}

static enum sy_rc key_line(struct scn_pctx *c, struct sy_str line)
{
	const char *eq = memchr(line.p, '=', line.len);
	if (eq == NULL)
		return scn_fail(c, "expected 'key = value', got '%.*s'", SCN_SV(line));
	struct sy_str key = scn_trim((struct sy_str){line.p, (size_t)(eq - line.p)});
	struct sy_str val = scn_trim((struct sy_str){eq + 1, line.len - (size_t)(eq - line.p) - 1});
	size_t ext;
	const struct scn_key_def *k;
	for (size_t i = 0; (k = key_at(c, i, &ext)) != NULL; i++) {
		if (!sy_str_eq(key, sy_str_from(k->name)))
			continue;
		if (c->seen_keys & (1ull << i))
			return scn_fail(c, "duplicate key '%.*s' in %s", SCN_SV(key), c->label);
		c->seen_keys |= 1ull << i;
		if (val.len == 0)
			return scn_fail(c, "empty value for '%.*s'", SCN_SV(key));
		if (val.len >= SCN_VALUE_MAX)
			return scn_fail(c, "value too long for '%.*s'", SCN_SV(key));
		return k->fn(c, ext == SIZE_MAX ? c->obj : c->more_obj[ext], k, val);
	}
	return scn_fail(c, "unknown key '%.*s' in %s", SCN_SV(key), c->label);
}

/* Where a comment starts: a '#' first on the line or after a blank, so
 * that a USSD code's '#' ("*123#", in a header or a text) is not one;
 * inside a section header's brackets there is none ("[ussd-service #100#]"). */
static size_t comment_at(struct sy_str line)
{
	size_t i = 0, from = 0;
	while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t'))
		i++;
	if (i < line.len && line.p[i] == '[') {
		const char *close = memchr(line.p + i, ']', line.len - i);
		from = close ? (size_t)(close - line.p) + 1 : line.len;
	}
	for (i = from; i < line.len; i++)
		if (line.p[i] == '#' && (i == from || line.p[i - 1] == ' ' || line.p[i - 1] == '\t'))
			return i;
	return line.len;
}

static enum sy_rc do_line(struct scn_pctx *c, struct sy_str line)
{
	line.len = comment_at(line);
	line = scn_trim(line);
	if (line.len == 0)
		return SY_OK;
	if (line.p[0] == '[')
		return section_open(c, line);
	if (c->sec == NULL)
		return scn_fail(c, "'%.*s' outside any section", SCN_SV(line));
	if (c->sec->line)
		return c->sec->line(c, c->obj, line);
	return key_line(c, line);
}

static enum sy_rc parse_lines(struct scn_pctx *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		c->line++;
		if (memchr(p, '\0', (size_t)(le - p)))
			return scn_fail(c, "NUL byte in the file");
		enum sy_rc rc = do_line(c, (struct sy_str){p, (size_t)(le - p)});
		if (rc != SY_OK)
			return rc;
		p = le + (nl != NULL);
	}
	enum sy_rc rc = section_end(c);
	/* Checks that need the whole file: names that refer to other sections,
	 * the extensions' first (a fault's carrier before an account's tariff). */
	for (size_t e = c->ext_n; rc == SY_OK && e-- > 0;)
		if (c->exts[e]->finish != NULL)
			rc = c->exts[e]->finish(c, c->s, c->exts[e]->arg);
	return rc;
}

enum sy_rc scn_parse_buf_ext(const char *text, size_t len, const char *name, const struct scn_ext *const *exts,
			     size_t ext_n, struct scn **out, char *err, size_t errlen)
{
	SY_ASSERT(ext_n <= SCN_EXTS_MAX);
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	struct scn *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return SY_ERR_NOMEM;
	}
	snprintf(s->file, sizeof(s->file), "%s", name);
	scn_defaults(s);
	struct scn_pctx c = {.s = s, .file = name, .err = err, .errlen = errlen, .ext_n = ext_n + SCN_OWN_EXTS};
	struct scn_ext own = scn_node_ext, fraud = scn_fraud_ext, ussd = scn_ussd_ext;
	own.arg = s;
	fraud.arg = s;
	ussd.arg = s;
	c.exts[0] = &own;
	c.exts[1] = &fraud;
	c.exts[2] = &ussd;
	for (size_t e = 0; e < ext_n; e++)
		c.exts[e + SCN_OWN_EXTS] = exts[e];
	enum sy_rc rc = parse_lines(&c, text, len);
	if (rc != SY_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return SY_OK;
}

enum sy_rc scn_parse_buf(const char *text, size_t len, const char *name, struct scn **out, char *err, size_t errlen)
{
	return scn_parse_buf_ext(text, len, name, NULL, 0, out, err, errlen);
}

enum sy_rc scn_parse_string(const char *text, const char *name, struct scn **out, char *err, size_t errlen)
{
	return scn_parse_buf(text, strlen(text), name, out, err, errlen);
}

/* Reads up to SCN_FILE_MAX + 1 bytes (one more says "too large") into a
 * buffer that doubles as needed: files are a few KB, and a 16 MB buffer
 * up front cost serve's start-up milliseconds (tens under ASan). */
static char *scn_read_all(FILE *f, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap == SCN_FILE_MAX + 1 || ferror(f))
			break;
		size_t next = SY_MIN((size_t)SCN_FILE_MAX + 1, cap * 2);
		char *grown = realloc(buf, next);
		if (grown == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		cap = next;
	}
	*len = n;
	return buf;
}

enum sy_rc scn_parse_file_ext(const char *path, const struct scn_ext *const *exts, size_t ext_n, struct scn **out,
			      char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return SY_ERR_IO;
	}
	size_t n = 0;
	char *buf = scn_read_all(f, &n);
	bool rerr = ferror(f);
	fclose(f);
	enum sy_rc rc = SY_ERR_IO;
	char dummy[8];
	if (err == NULL || errlen == 0)
		err = dummy, errlen = sizeof(dummy);
	if (buf == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (rerr)
		snprintf(err, errlen, "%s: read error", path);
	else if (n > SCN_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %u bytes", path, SCN_FILE_MAX);
	else
		rc = scn_parse_buf_ext(buf, n, path, exts, ext_n, out, err, errlen);
	free(buf);
	return rc;
}

enum sy_rc scn_parse_file(const char *path, struct scn **out, char *err, size_t errlen)
{
	return scn_parse_file_ext(path, NULL, 0, out, err, errlen);
}

void scn_free(struct scn *s)
{
	free(s);
}
