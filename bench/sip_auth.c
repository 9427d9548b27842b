/* sip_auth.c: what authentication costs a new INVITE (core/sip/auth.h):
 * the trunk match (64 trunks of 4 networks each, the caller in the last
 * one, and a source no trunk lists), and a digest verification (nonce MAC,
 * the response recomputed, the nc table) on INVITEs parsed beforehand, each
 * with its own nc. The SIP parse is the switch's cost either way and is
 * left out. Prints JSON lines; usage: sip_auth [N] (default 20000). */
#include "bench/bench.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/sip/auth.h"

/* The env: a clock that stands still and a counter for random bytes (a
 * bench needs neither to be real). */
static uint64_t b_now(void *ctx)
{
	(void)ctx;
	return SY_NS_PER_S;
}

static void b_random(void *ctx, void *buf, size_t len)
{
	static uint8_t x;
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = x++;
}

static const struct sy_env_ops ops = {.now_ns = b_now, .wall_ns = b_now, .random = b_random};
static const struct sy_env env = {.ops = &ops};

static void trunks(struct sip_access_cfg *c)
{
	for (uint32_t t = 0; t < SIP_TRUNKS_MAX; t++) {
		struct sip_trunk_cfg *tr = &c->trunks[c->trunk_n++];
		snprintf(tr->name, sizeof(tr->name), "t%u", t);
		for (uint32_t i = 0; i < 4; i++) {
			tr->nets[tr->net_n++] = (struct sip_net){sy_addr_v4(10, (uint8_t)t, (uint8_t)i, 0, 0), 24};
		}
	}
}

static double trunk_ns(struct sip_auth *a, const struct sy_addr *src, uint64_t n)
{
	volatile int sink = 0;
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++)
		sink += sip_auth_trunk_match(a, src);
	(void)sink;
	return (double)(bench_ns(CLOCK_MONOTONIC) - t0) / (double)n;
}

/* A challenge's nonce (the first one: SHA-256 by default). */
static void nonce_from(const char *hdr, char *out)
{
	const char *p = strstr(hdr, "nonce=\"") + 7;
	size_t k = (size_t)(strchr(p, '"') - p);
	memcpy(out, p, k);
	out[k] = '\0';
}

static struct sip_msg *invites(struct sip_auth *a, enum sip_digest_alg alg, uint32_t n)
{
	struct sip_msg *m = calloc(n, sizeof(*m)), ch;
	char buf[2048], err[64], hdr[1024], nonce[80], ha1[65], resp[65], nc[9];
	const char *uri = "sip:15551234567@sy.example";
	int len =
	    snprintf(buf, sizeof(buf),
		     "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
		     "To: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		     uri);
	struct sip_ident id;
	int status;
	size_t hl;
	struct sy_addr src = sy_addr_v4(192, 0, 2, 1, 5060);
	SY_ASSERT(m != NULL && sip_msg_parse((uint8_t *)buf, (size_t)len, &ch, err, sizeof(err)) == SY_OK);
	SY_ASSERT(sip_auth_check(a, &ch, &src, &id, &status, hdr, sizeof(hdr), &hl) == SIP_AUTH_CHALLENGE);
	sip_msg_free(&ch);
	nonce_from(hdr, nonce);
	sip_digest_ha1(alg, "alice", "switchyard", "s3cret", ha1);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(nc, sizeof(nc), "%08x", i + 1);
		sip_digest_response(alg, ha1, nonce, nc, "c0ffee", "auth", "INVITE", uri, resp);
		len = snprintf(
		    buf, sizeof(buf),
		    "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
		    "To: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\nProxy-Authorization: Digest "
		    "username=\"alice\", realm=\"switchyard\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		    "algorithm=%s, qop=auth, nc=%s, cnonce=\"c0ffee\"\r\nContent-Length: 0\r\n\r\n",
		    uri, nonce, uri, resp, alg == SIP_ALG_SHA256 ? "SHA-256" : "MD5", nc);
		SY_ASSERT(sip_msg_parse((uint8_t *)buf, (size_t)len, &m[i], err, sizeof(err)) == SY_OK);
	}
	return m;
}

static double digest_ns(struct sip_auth *a, enum sip_digest_alg alg, uint32_t n)
{
	struct sip_msg *m = invites(a, alg, n);
	struct sip_ident id;
	struct sy_addr src = sy_addr_v4(192, 0, 2, 1, 5060);
	char hdr[1024];
	int status;
	size_t hl;
	uint32_t ok = 0;
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint32_t i = 0; i < n; i++)
		ok += sip_auth_check(a, &m[i], &src, &id, &status, hdr, sizeof(hdr), &hl) == SIP_AUTH_OK;
	double per = (double)(bench_ns(CLOCK_MONOTONIC) - t0) / (double)n;
	for (uint32_t i = 0; i < n; i++)
		sip_msg_free(&m[i]);
	free(m);
	SY_ASSERT(ok == n);
	return per;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 20000;
	sip_global_init();
	struct sip_access_cfg *c = calloc(1, sizeof(*c));
	SY_ASSERT(c != NULL);
	trunks(c);
	struct sip_user_cfg *u = &c->users[c->user_n++];
	snprintf(u->name, sizeof(u->name), "alice");
	snprintf(u->password, sizeof(u->password), "s3cret");
	struct sip_auth *a = sip_auth_create(&env, c);
	SY_ASSERT(a != NULL);
	struct sy_addr last = sy_addr_v4(10, 63, 3, 9, 5060), none = sy_addr_v4(192, 0, 2, 1, 5060);
	printf("{\"bench\":\"sip-auth-trunk\",\"nets\":256,\"ns_per_match_last\":%.1f,\"ns_per_match_none\":%.1f}\n",
	       trunk_ns(a, &last, 2000000), trunk_ns(a, &none, 2000000));
	double sha = digest_ns(a, SIP_ALG_SHA256, n), md5 = digest_ns(a, SIP_ALG_MD5, n);
	printf("{\"bench\":\"sip-auth-digest\",\"invites\":%u,\"ns_per_sha256\":%.0f,\"ns_per_md5\":%.0f}\n", n, sha,
	       md5);
	sip_auth_destroy(a);
	free(c);
	return 0;
}
