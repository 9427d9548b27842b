/* json.c: see json.h. Every index is checked against the end: the input
 * comes from the network. */
#include "json.h"

#include <stdio.h>

struct jp {
	const char *p, *end;
	char *w, *wend;
	char *err;
	size_t errlen;
};

static enum sy_rc jfail(struct jp *j, const char *what)
{
	if (j->err != NULL && j->errlen > 0)
		snprintf(j->err, j->errlen, "%s", what);
	return SY_ERR_PARSE;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool hex4(struct jp *j, uint32_t *out)
{
	if (j->end - j->p < 4)
		return false;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = sy_hex_digit(j->p[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	j->p += 4;
	*out = v;
	return true;
}

static bool put_utf8(struct jp *j, uint32_t cp)
{
	uint8_t b[4];
	size_t n;
	if (cp < 0x80)
		b[0] = (uint8_t)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
		b[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
	else
		b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
	if ((size_t)(j->wend - j->w) < n)
		return false;
	memcpy(j->w, b, n);
	j->w += n;
	return true;
}

static enum sy_rc escape(struct jp *j)
{
	if (j->p >= j->end)
		return jfail(j, "unterminated escape");
	char c = *j->p++;
	const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
	const char *k = strchr(from, c);
	if (c != 'u') {
		if (k == NULL || c == '\0')
			return jfail(j, "bad escape");
		return put_utf8(j, (uint8_t)to[k - from]) ? SY_OK : jfail(j, "too long");
	}
	uint32_t cp, lo;
	if (!hex4(j, &cp))
		return jfail(j, "bad \\u escape");
	if (cp >= 0xD800 && cp < 0xDC00) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return jfail(j, "lone surrogate");
		j->p += 2;
		if (!hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
			return jfail(j, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xDC00 && cp < 0xE000) {
		return jfail(j, "lone surrogate");
	}
	return put_utf8(j, cp) ? SY_OK : jfail(j, "too long");
}

static enum sy_rc string(struct jp *j, struct sy_str *out)
{
	if (j->p >= j->end || *j->p != '"')
		return jfail(j, "expected a string");
	j->p++;
	char *start = j->w;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return jfail(j, "control character in a string");
		if (c == '\\') {
			j->p++;
			if (escape(j) != SY_OK)
				return SY_ERR_PARSE;
			continue;
		}
		if (j->w >= j->wend)
			return jfail(j, "too long");
		*j->w++ = (char)c;
		j->p++;
	}
	if (j->p >= j->end)
		return jfail(j, "unterminated string");
	j->p++;
	*out = (struct sy_str){start, (size_t)(j->w - start)};
	return SY_OK;
}

static enum sy_rc scalar(struct jp *j, struct json_field *f)
{
	if (j->p < j->end && *j->p == '"') {
		f->is_string = true;
		return string(j, &f->value);
	}
	const char *s = j->p;
	while (j->p < j->end && strchr("+-.0123456789eEtruefalsn", *j->p) != NULL && *j->p != '\0')
		j->p++;
	f->value = (struct sy_str){s, (size_t)(j->p - s)};
	if (f->value.len == 0)
		return jfail(j, "expected a value (nested objects and arrays are not accepted)");
	return SY_OK;
}

enum sy_rc json_parse_flat(const char *p, size_t len, char *scratch, size_t scratch_len, struct json_obj *out,
			   char *err, size_t errlen)
{
	struct jp j = {p, p + len, scratch, scratch + scratch_len, err, errlen};
	out->n = 0;
	skip_ws(&j);
	if (j.p >= j.end || *j.p++ != '{')
		return jfail(&j, "expected a JSON object");
	skip_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
	} else {
		for (;;) {
			if (out->n == JSON_FIELDS_MAX)
				return jfail(&j, "too many fields");
			struct json_field *f = &out->f[out->n];
			memset(f, 0, sizeof(*f));
			skip_ws(&j);
			if (string(&j, &f->key) != SY_OK)
				return SY_ERR_PARSE;
			for (uint32_t i = 0; i < out->n; i++)
				if (sy_str_eq(out->f[i].key, f->key))
					return jfail(&j, "duplicate key");
			skip_ws(&j);
			if (j.p >= j.end || *j.p++ != ':')
				return jfail(&j, "expected ':'");
			skip_ws(&j);
			if (scalar(&j, f) != SY_OK)
				return SY_ERR_PARSE;
			out->n++;
			skip_ws(&j);
			if (j.p < j.end && *j.p == ',') {
				j.p++;
				continue;
			}
			if (j.p < j.end && *j.p == '}') {
				j.p++;
				break;
			}
			return jfail(&j, "expected ',' or '}'");
		}
	}
	skip_ws(&j);
	if (j.p != j.end)
		return jfail(&j, "trailing data after the object");
	return SY_OK;
}

bool json_get_str(const struct json_obj *o, const char *key, struct sy_str *out)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (o->f[i].is_string && sy_str_eq(o->f[i].key, sy_str_from(key))) {
			*out = o->f[i].value;
			return true;
		}
	return false;
}
