/* env.c: address helpers and the logging wrapper of the env seam. These are
 * pure functions: parsing and formatting touch no socket. */
#include "env.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

static bool parse_port(const char *s, uint16_t *out)
{
	char *end;
	if (*s == '\0')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

enum sy_rc sy_addr_parse(const char *s, uint16_t default_port, struct sy_addr *out)
{
	char host[64];
	const char *port = NULL;
	memset(out, 0, sizeof(*out));
	out->port = default_port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || (size_t)(close - s - 1) >= sizeof(host))
			return SY_ERR_INVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return SY_ERR_INVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* bare IPv6 without a port */
		size_t n = colon ? (size_t)(colon - s) : strlen(s);
		if (n >= sizeof(host))
			return SY_ERR_INVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		if (colon)
			port = colon + 1;
	}
	if (port != NULL && !parse_port(port, &out->port))
		return SY_ERR_INVAL;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, out->ip) == 1) {
		out->family = SY_AF_INET;
		return SY_OK;
	}
	if (inet_pton(AF_INET6, host, out->ip) == 1) {
		out->family = SY_AF_INET6;
		return SY_OK;
	}
	return SY_ERR_INVAL;
}

size_t sy_addr_fmt_host(const struct sy_addr *a, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	if (inet_ntop(a->family == SY_AF_INET6 ? AF_INET6 : AF_INET, a->ip, tmp, sizeof(tmp)) == NULL)
		strcpy(tmp, "?");
	int w = snprintf(buf, n, "%s", tmp);
	return w < 0 ? 0 : SY_MIN((size_t)w, n - 1);
}

size_t sy_addr_fmt(const struct sy_addr *a, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN];
	sy_addr_fmt_host(a, host, sizeof(host));
	int w = a->family == SY_AF_INET6 ? snprintf(buf, n, "[%s]:%u", host, a->port)
					 : snprintf(buf, n, "%s:%u", host, a->port);
	return w < 0 ? 0 : SY_MIN((size_t)w, n - 1);
}

bool sy_addr_eq(const struct sy_addr *a, const struct sy_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	return memcmp(a->ip, b->ip, a->family == SY_AF_INET6 ? 16 : 4) == 0;
}

struct sy_addr sy_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct sy_addr r;
	memset(&r, 0, sizeof(r));
	r.family = SY_AF_INET;
	r.port = port;
	r.ip[0] = a;
	r.ip[1] = b;
	r.ip[2] = c;
	r.ip[3] = d;
	return r;
}

void sy_env_log(const struct sy_env *e, enum sy_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	e->ops->log(e->ctx, level, fmt, ap);
	va_end(ap);
}

bool sy_log_limit_pass(const struct sy_env *e, struct sy_log_limit *l, enum sy_log_level lvl)
{
	uint64_t now = sy_env_now_ns(e);
	if (l->next_ns != 0 && now < l->next_ns) {
		l->suppressed++;
		return false;
	}
	if (l->suppressed > 0)
		sy_env_log(e, lvl, "(%llu more like the next line in the last %llu s)", (unsigned long long)l->suppressed,
			   (unsigned long long)(SY_LOG_LIMIT_NS / 1000000000ull));
	l->suppressed = 0;
	l->next_ns = now + SY_LOG_LIMIT_NS;
	return true;
}

enum sy_rc sy_env_file_slurp(const struct sy_env *e, const char *path, size_t max, char **out, size_t *len)
{
	SY_ASSERT(out != NULL && len != NULL);
	*out = NULL;
	*len = 0;
	struct sy_file *f;
	uint64_t size = 0;
	enum sy_rc rc = sy_env_file_open(e, path, SY_FILE_READ, &f);
	if (rc != SY_OK)
		return rc;
	if ((rc = sy_env_file_size(e, f, &size)) != SY_OK)
		goto out_close;
	if (size > max) {
		rc = SY_ERR_FULL;
		goto out_close;
	}
	char *buf = malloc((size_t)size + 1);
	if (buf == NULL) {
		rc = SY_ERR_NOMEM;
		goto out_close;
	}
	size_t got = 0;
	rc = sy_env_file_read(e, f, 0, buf, (size_t)size, &got);
	if (rc != SY_OK || got != size) {
		free(buf);
		rc = rc != SY_OK ? rc : SY_ERR_IO; /* changed under us */
		goto out_close;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
out_close:
	sy_env_file_close(e, f);
	return rc;
}
