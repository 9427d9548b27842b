/* scn_ext.h: the parser engine of scn.h, for the modules that add sections
 * and keys to a scenario file without core/ knowing them. The simulated
 * world (peers/world.c: [traffic], [fault], carriers' behaviour) and the
 * simulator's [expect] (sim/expect.c) register here; core/conf/scn.c holds
 * the node's own sections. One file is still parsed in one pass, and every
 * error still reads "file:line: message".
 *
 * A section (struct scn_sec_def) is a table of keys (struct scn_key_def):
 * each key names a handler and the offset of its field in the section's
 * object, which the section's begin() returns. An extension (struct
 * scn_ext) brings whole sections and extra keys for the node's sections
 * ([carrier NAME] answer = ..., for instance), with its own objects. */
#ifndef SY_CONF_SCN_EXT_H
#define SY_CONF_SCN_EXT_H

#include "core/conf/scn.h"

struct scn_pctx;
struct scn_key_def;
typedef enum sy_rc (*scn_key_fn)(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);

struct scn_key_def {
	const char *name;
	scn_key_fn fn;
	size_t off;  /* of the field within the section's object */
	size_t off2; /* second field (parsed address, count) or string size */
	bool required;
};

struct scn_sec_def {
	const char *kind;
	const char *name; /* NULL: takes no name; "*": needs one; else that name */
	const struct scn_key_def *keys;
	size_t key_n;
	/* arg: the struct scn for the node's sections, scn_ext.arg for an
	 * extension's. Returns the object the keys fill; NULL after an error. */
	void *(*begin)(struct scn_pctx *c, void *arg, struct sy_str name);
	enum sy_rc (*end)(struct scn_pctx *c, void *obj);
	enum sy_rc (*line)(struct scn_pctx *c, void *obj, struct sy_str line); /* non key=value */
	bool multi;
};

/* Extra keys for a section of another table (by kind, e.g. "carrier"). */
struct scn_ext_keys {
	const char *kind;
	const struct scn_key_def *keys;
	size_t key_n;
	/* Called each time such a section opens (after its own begin), with
	 * its name: returns the extension's object for these keys. */
	void *(*begin)(struct scn_pctx *c, void *arg, struct sy_str name);
};

struct scn_ext {
	const struct scn_sec_def *secs;
	size_t sec_n;
	const struct scn_ext_keys *keys;
	size_t keys_n;
	/* After the whole file: checks that refer to other sections. */
	enum sy_rc (*finish)(struct scn_pctx *c, const struct scn *s, void *arg);
	void *arg;
};

#define SCN_EXTS_MAX  4
#define SCN_VALUE_MAX 512

/* Parses with extensions (exts[0 .. ext_n), at most SCN_EXTS_MAX). */
enum sy_rc scn_parse_buf_ext(const char *text, size_t len, const char *name, const struct scn_ext *const *exts,
			     size_t ext_n, struct scn **out, char *err, size_t errlen);
enum sy_rc scn_parse_file_ext(const char *path, const struct scn_ext *const *exts, size_t ext_n, struct scn **out,
			      char *err, size_t errlen);

/* ---- for handlers ---- */

/* Writes "file:line: message" into the caller's err; returns SY_ERR_PARSE. */
enum sy_rc scn_fail(struct scn_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum sy_rc scn_fail_at(struct scn_pctx *c, uint32_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "bad WHAT 'TOKEN' for 'KEY'". */
enum sy_rc scn_bad(struct scn_pctx *c, const char *what, struct sy_str tok, const struct scn_key_def *k);
uint32_t scn_pctx_line(const struct scn_pctx *c);
const char *scn_pctx_file(const struct scn_pctx *c);
const char *scn_pctx_label(const struct scn_pctx *c); /* "[carrier tier1]" */

/* Printf arguments for a token: "%.*s", SCN_SV(tok). */
#define SCN_SV(s) (int)SY_MIN((s).len, 200), (s).p

struct sy_str scn_trim(struct sy_str s);
/* Next token separated by blanks (and commas when commas is set). */
bool scn_next_tok(struct sy_str *rest, struct sy_str *tok, bool commas);
bool scn_copy_str(char *dst, size_t size, struct sy_str s);
bool scn_ends_with(struct sy_str s, const char *suffix, struct sy_str *head);
/* "70%", "0.1%" -> ppm; at most 4 decimals, at most 100%. */
bool scn_parse_pct(struct sy_str t, uint32_t *ppm);
bool scn_parse_uint(struct sy_str t, uint64_t max, uint64_t *out);
bool scn_currency_ok(struct sy_str t);

/* Key handlers: the field is at k->off in the section's object. */
enum sy_rc scn_key_duration(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_duration_nz(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_u64(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_u32(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_i32(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* string of at most k->off2 - 1 bytes */
enum sy_rc scn_key_str(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_dist(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* host:port into a string at off and a struct sy_addr at off2 */
enum sy_rc scn_key_addr(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_pct(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc scn_key_bool(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* prefix list at off (SCN_PREFIXES_MAX x SCN_PREFIX_LEN_MAX + 1), count at off2 */
enum sy_rc scn_key_prefixes(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* digits ('+' dropped) into a string of k->off2 bytes */
enum sy_rc scn_key_digits(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* a path, resolved against the scenario's folder */
enum sy_rc scn_key_file(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
/* "2026-01-01T00:00:00Z" to Unix ns */
enum sy_rc scn_key_epoch(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);

#endif
