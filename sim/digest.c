/* digest.c: SHA-256 (openssl EVP) over a fixed little-endian binary encoding
 * of the simulator's event log; see digest.h. The encoding holds only
 * virtual values (times, addresses, payload hashes, names), never pointers. */
#include "sim/digest.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include "sim/sim.h"

enum { REC_DGRAM = 1, REC_STREAM = 2, REC_DROP = 3, REC_EVENT = 4 };

enum sy_rc sim_digest_init(struct sim_digest *d)
{
	memset(d, 0, sizeof(*d) - sizeof(d->buf));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return SY_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return SY_ERR_NOMEM;
	}
	d->md = md;
	return SY_OK;
}

void sim_digest_free(struct sim_digest *d)
{
	EVP_MD_CTX_free(d->md);
	d->md = NULL;
}

void sim_digest_set_text(struct sim_digest *d, FILE *f)
{
	d->text = f;
}

static void dg_flush(struct sim_digest *d)
{
	if (d->used > 0) {
		SY_ASSERT(EVP_DigestUpdate(d->md, d->buf, d->used) == 1);
		d->used = 0;
	}
}

static void dg_put(struct sim_digest *d, const void *p, size_t n)
{
	if (d->used + n > SIM_DIGEST_BUF) {
		dg_flush(d);
		if (n > SIM_DIGEST_BUF / 2) { /* big payloads go straight in */
			SY_ASSERT(EVP_DigestUpdate(d->md, p, n) == 1);
			return;
		}
	}
	memcpy(d->buf + d->used, p, n);
	d->used += n;
}

static void dg_u64(struct sim_digest *d, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	dg_put(d, b, 8);
}

static void dg_u32(struct sim_digest *d, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	dg_put(d, b, 4);
}

/* A delivered payload enters as its length and its XXH3-64: one pass over
 * bytes the receiver reads next anyway, instead of copying them into the
 * buffer and through SHA-256 (two thirds of the digest's cost at 100,000
 * SMS/s). A difference in any byte still changes the digest (XXH3 is not
 * meant to resist an adversary; nobody chooses the payloads to collide). */
static void dg_payload(struct sim_digest *d, const void *p, size_t len)
{
	dg_u32(d, (uint32_t)len);
	if (len > 0)
		dg_u64(d, XXH3_64bits(p, len));
}

static void dg_addr(struct sim_digest *d, const struct sy_addr *a)
{
	uint8_t b[19];
	b[0] = a->family;
	b[1] = (uint8_t)a->port;
	b[2] = (uint8_t)(a->port >> 8);
	size_t n = a->family == SY_AF_INET6 ? 16 : 4;
	memcpy(b + 3, a->ip, n);
	dg_put(d, b, 3 + n);
}

static void dg_head(struct sim_digest *d, uint8_t type, uint64_t t_ns)
{
	dg_put(d, &type, 1);
	dg_u64(d, t_ns);
	d->records++;
}

/* The text log is a debugging aid: one line per record, payload's first line. */
static void dg_text(struct sim_digest *d, uint64_t t_ns, const char *what, const struct sy_addr *src,
		    const struct sy_addr *dst, const uint8_t *buf, size_t len)
{
	char s[SY_ADDR_STRLEN] = "-", t[SY_ADDR_STRLEN] = "-";
	if (src)
		sy_addr_fmt(src, s, sizeof(s));
	if (dst)
		sy_addr_fmt(dst, t, sizeof(t));
	size_t show = 0;
	while (buf && show < len && show < 120 && buf[show] != '\r' && buf[show] != '\n' && buf[show] >= 0x20 &&
	       buf[show] < 0x7f)
		show++;
	fprintf(d->text, "%llu.%09llu %s %s > %s len=%zu %.*s\n", (unsigned long long)(t_ns / SY_NS_PER_S),
		(unsigned long long)(t_ns % SY_NS_PER_S), what, s, t, len, (int)show, buf ? (const char *)buf : "");
}

void sim_digest_dgram(struct sim_digest *d, uint64_t t_ns, const struct sy_addr *src, const struct sy_addr *dst,
		      const uint8_t *buf, size_t len)
{
	dg_head(d, REC_DGRAM, t_ns);
	dg_addr(d, src);
	dg_addr(d, dst);
	dg_payload(d, buf, len);
	if (d->text)
		dg_text(d, t_ns, "dgram", src, dst, buf, len);
}

void sim_digest_stream(struct sim_digest *d, uint64_t t_ns, enum sim_stream_what what, const struct sy_addr *src,
		       const struct sy_addr *dst, const uint8_t *buf, size_t len)
{
	static const char *names[] = {"?", "stream-open", "stream-data", "stream-close", "stream-reset"};
	uint8_t w = (uint8_t)what;
	dg_head(d, REC_STREAM, t_ns);
	dg_put(d, &w, 1);
	dg_addr(d, src);
	dg_addr(d, dst);
	dg_payload(d, buf, len);
	if (d->text)
		dg_text(d, t_ns, names[w < 5 ? w : 0], src, dst, buf, len);
}

const char *sim_drop_reason_str(enum sim_drop_reason why)
{
	switch (why) {
	case SIM_DROP_LOSS: return "loss";
	case SIM_DROP_LINK_DOWN: return "link-down";
	case SIM_DROP_NO_SOCKET: return "no-socket";
	case SIM_DROP_NO_ROUTE: return "no-route";
	case SIM_DROP_STREAM_CLOSED: return "stream-closed";
	case SIM_DROP_RCVBUF: return "rcvbuf";
	}
	return "?";
}

void sim_digest_drop(struct sim_digest *d, uint64_t t_ns, enum sim_drop_reason why, const struct sy_addr *src,
		     const struct sy_addr *dst, size_t len)
{
	uint8_t w = (uint8_t)why;
	dg_head(d, REC_DROP, t_ns);
	dg_put(d, &w, 1);
	dg_addr(d, src);
	dg_addr(d, dst);
	dg_u32(d, (uint32_t)len);
	if (d->text) {
		char what[32];
		snprintf(what, sizeof(what), "drop-%s", sim_drop_reason_str(why));
		dg_text(d, t_ns, what, src, dst, NULL, len);
	}
}

void sim_digest_event(struct sim_digest *d, uint64_t t_ns, const char *node, const char *kind, const void *data,
		      size_t len)
{
	size_t nn = strlen(node), kn = strlen(kind);
	dg_head(d, REC_EVENT, t_ns);
	dg_u32(d, (uint32_t)nn);
	dg_put(d, node, nn);
	dg_u32(d, (uint32_t)kn);
	dg_put(d, kind, kn);
	dg_u32(d, (uint32_t)len);
	if (len > 0)
		dg_put(d, data, len);
	if (d->text) {
		fprintf(d->text, "%llu.%09llu event %s %s len=%zu\n", (unsigned long long)(t_ns / SY_NS_PER_S),
			(unsigned long long)(t_ns % SY_NS_PER_S), node, kind, len);
	}
}

void sim_digest_final(struct sim_digest *d, uint8_t out[32])
{
	dg_flush(d);
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	SY_ASSERT(copy != NULL);
	SY_ASSERT(EVP_MD_CTX_copy_ex(copy, d->md) == 1);
	unsigned int n = 0;
	SY_ASSERT(EVP_DigestFinal_ex(copy, out, &n) == 1 && n == 32);
	EVP_MD_CTX_free(copy);
}

void sim_digest_final_hex(struct sim_digest *d, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[32];
	sim_digest_final(d, h);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[64] = '\0';
}

void sim_digest_hex(struct sim *sim, char out[65])
{
	sim_digest_final_hex(sim_digest_of(sim), out);
}
