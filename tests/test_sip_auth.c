/* test_sip_auth.c: who may use the switch (core/sip/auth.h): the digest
 * arithmetic against RFC 7616 section 3.9.1's vectors, trunk matching by
 * longest prefix and port, the challenge / answer exchange, wrong
 * passwords, stale nonces, nc replays, default deny (403) and the
 * registrar. The answers are computed by the test from the challenge
 * (sip_digest_response is checked against the RFC first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/sip/auth.h"
#include "tests/testenv.h"

#define SEC SY_NS_PER_S

/* ---- RFC 7616 3.9.1 ---- */

static void test_rfc7616_vectors(void **state)
{
	(void)state;
	static const char nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	static const char cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	char ha1[65], resp[65];
	sip_digest_ha1(SIP_ALG_MD5, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
	sip_digest_response(SIP_ALG_MD5, ha1, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html", resp);
	assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");
	sip_digest_ha1(SIP_ALG_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
	sip_digest_response(SIP_ALG_SHA256, ha1, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html", resp);
	assert_string_equal(resp, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* ---- fixture ---- */

struct fx {
	struct testenv te;
	struct sip_access_cfg cfg;
	struct sip_auth *a;
	char hdr[1024];
	size_t hdr_len;
	int status;
	struct sip_ident id;
};

static struct sy_addr addr(const char *s)
{
	struct sy_addr a;
	assert_int_equal(sy_addr_parse(s, 0, &a), SY_OK);
	return a;
}

static void trunk(struct fx *f, const char *name, const char *account, const char *net, uint8_t bits)
{
	struct sip_trunk_cfg *t = NULL;
	for (uint32_t i = 0; i < f->cfg.trunk_n; i++)
		if (strcmp(f->cfg.trunks[i].name, name) == 0)
			t = &f->cfg.trunks[i];
	if (t == NULL) {
		t = &f->cfg.trunks[f->cfg.trunk_n++];
		snprintf(t->name, sizeof(t->name), "%s", name);
		snprintf(t->account, sizeof(t->account), "%s", account);
	}
	t->nets[t->net_n++] = (struct sip_net){addr(net), bits};
}

static void user(struct fx *f, const char *name, const char *password)
{
	struct sip_user_cfg *u = &f->cfg.users[f->cfg.user_n++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->password, sizeof(u->password), "%s", password);
	snprintf(u->account, sizeof(u->account), "acct-%s", name);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	testenv_init(&f->te, 7);
	snprintf(f->cfg.realm, sizeof(f->cfg.realm), "sy.example");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sip_auth_destroy(f->a);
	testenv_free(&f->te);
	free(f);
	return 0;
}

static void start(struct fx *f)
{
	assert_non_null(f->a = sip_auth_create(&f->te.env, &f->cfg));
}

/* A request; auth (may be "") is a whole credentials header line. */
static enum sip_auth_verdict ask(struct fx *f, const char *method, const char *src, const char *auth)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf),
			 "%s sip:15551234567@sy.example SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@sy.example>;tag=1\r\n"
			 "To: <sip:alice@sy.example>\r\n"
			 "Call-ID: c1@x\r\n"
			 "CSeq: 1 %s\r\n"
			 "Contact: <sip:alice@192.168.1.20:5062>\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 method, method, auth);
	struct sip_msg m;
	char err[128];
	assert_int_equal(sip_msg_parse((const uint8_t *)buf, (size_t)n, &m, err, sizeof(err)), SY_OK);
	struct sy_addr from = addr(src);
	f->status = 0;
	enum sip_auth_verdict v =
	    sip_auth_check(f->a, &m, &from, &f->id, &f->status, f->hdr, sizeof(f->hdr), &f->hdr_len);
	sip_msg_free(&m);
	return v;
}

/* The nonce of the challenge for alg ("SHA-256" or "MD5"). */
static void nonce_of(const struct fx *f, const char *alg, char *out)
{
	char want[32];
	snprintf(want, sizeof(want), "algorithm=%s", alg);
	const char *line = f->hdr;
	while (line != NULL && *line != '\0') {
		const char *end = strstr(line, "\r\n");
		if (end == NULL)
			break;
		const char *a = strstr(line, want);
		if (a != NULL && a < end) {
			const char *p = strstr(line, "nonce=\"") + 7;
			size_t n = (size_t)(strchr(p, '"') - p);
			memcpy(out, p, n);
			out[n] = '\0';
			return;
		}
		line = end + 2;
	}
	fail_msg("no %s challenge in: %s", alg, f->hdr);
}

/* The credentials line answering nonce with password, for uri. */
static void answer_uri(char *out, size_t cap, bool www, enum sip_digest_alg alg, const char *user,
		       const char *password, const char *nonce, const char *nc, const char *method, const char *uri)
{
	char ha1[65], resp[65];
	sip_digest_ha1(alg, user, "sy.example", password, ha1);
	sip_digest_response(alg, ha1, nonce, nc, "0a4f113b", "auth", method, uri, resp);
	snprintf(out, cap,
		 "%s: Digest username=\"%s\", realm=\"sy.example\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		 "algorithm=%s, qop=auth, nc=%s, cnonce=\"0a4f113b\"\r\n",
		 www ? "Authorization" : "Proxy-Authorization", user, nonce, uri, resp,
		 alg == SIP_ALG_SHA256 ? "SHA-256" : "MD5", nc);
}

/* ...for the Request-URI ask() sends. */
static void answer(char *out, size_t cap, bool www, enum sip_digest_alg alg, const char *user, const char *password,
		   const char *nonce, const char *nc, const char *method)
{
	answer_uri(out, cap, www, alg, user, password, nonce, nc, method, "sip:15551234567@sy.example");
}

/* ---- trunks ---- */

static void test_trunk_longest_prefix_and_port(void **state)
{
	struct fx *f = *state;
	trunk(f, "wide", "w", "10.0.0.0", 8);
	trunk(f, "narrow", "n", "10.1.0.0", 16);
	trunk(f, "port", "p", "10.1.1.1:5070", 32);
	trunk(f, "v6", "6", "2001:db8::", 32);
	start(f);
	struct sy_addr a;
	a = addr("10.9.9.9:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 0);
	a = addr("10.1.2.3:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 1);
	a = addr("10.1.1.1:5070"); /* the /32 with its port wins */
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 2);
	a = addr("10.1.1.1:5060"); /* another port: the /16 */
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 1);
	a = addr("[2001:db8:42::1]:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 3);
	a = addr("[2001:db9::1]:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), -1);
	a = addr("11.0.0.1:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), -1);
	/* an odd prefix length: 192.0.2.128/25 holds .200, not .100 */
	sip_auth_destroy(f->a);
	f->cfg.trunk_n = 0;
	trunk(f, "half", "", "192.0.2.128", 25);
	start(f);
	a = addr("192.0.2.200:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), 0);
	a = addr("192.0.2.100:5060");
	assert_int_equal(sip_auth_trunk_match(f->a, &a), -1);
}

static void test_trunk_accepted_unknown_403(void **state)
{
	struct fx *f = *state;
	trunk(f, "carrierx", "acme", "192.0.2.0", 24);
	start(f);
	assert_int_equal(ask(f, "INVITE", "192.0.2.7:5060", ""), SIP_AUTH_OK);
	assert_int_equal(f->id.kind, SIP_IDENT_TRUNK);
	assert_string_equal(f->id.account, "acme");
	/* default deny: no users, auth_unknown = reject */
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_FORBIDDEN);
	/* a REGISTER is never a trunk's */
	assert_int_equal(ask(f, "REGISTER", "192.0.2.7:5060", ""), SIP_AUTH_FORBIDDEN);
	const struct sip_auth_stats *s = sip_auth_stats(f->a);
	assert_int_equal(s->by_trunk, 1);
	assert_int_equal(s->rejected, 2);
	assert_int_equal(s->challenged, 0);
}

static void test_auth_unknown_challenge(void **state)
{
	struct fx *f = *state;
	f->cfg.challenge_unknown = true;
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	assert_int_equal(f->status, 407);
	assert_non_null(strstr(f->hdr, "Proxy-Authenticate: Digest realm=\"sy.example\""));
	assert_int_equal(sip_auth_stats(f->a)->rejected, 0);
}

/* ---- digest ---- */

static void test_digest_both_algorithms(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512];
	user(f, "alice", "s3cret");
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	assert_int_equal(f->status, 407);
	/* RFC 8760: SHA-256 first, then MD5, both qop=auth */
	const char *sha = strstr(f->hdr, "algorithm=SHA-256"), *md5 = strstr(f->hdr, "algorithm=MD5");
	assert_true(sha != NULL && md5 != NULL && sha < md5);
	assert_null(strstr(f->hdr, "stale"));
	nonce_of(f, "SHA-256", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
	assert_int_equal(f->id.kind, SIP_IDENT_USER);
	assert_string_equal(f->id.name, "alice");
	assert_string_equal(f->id.account, "acct-alice");
	/* a uri of the host alone (what SIPp 3.6 sends) names the same resource */
	answer_uri(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000002", "INVITE",
		   "sip:sy.example");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
	/* another host does not */
	answer_uri(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000003", "INVITE",
		   "sip:other.example");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
}

static void test_digest_md5_and_stored_ha1(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512], ha1[65], stored[80];
	sip_digest_ha1(SIP_ALG_MD5, "bob", "sy.example", "hunter2", ha1);
	snprintf(stored, sizeof(stored), "md5:%s", ha1);
	user(f, "bob", stored);
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.2:5060", ""), SIP_AUTH_CHALLENGE);
	nonce_of(f, "MD5", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_MD5, "bob", "hunter2", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.2:5060", cred), SIP_AUTH_OK);
	/* an MD5 HA1 cannot answer SHA-256: refused, challenged again */
	assert_int_equal(ask(f, "INVITE", "198.51.100.2:5060", ""), SIP_AUTH_CHALLENGE);
	nonce_of(f, "SHA-256", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "bob", "hunter2", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.2:5060", cred), SIP_AUTH_CHALLENGE);
	assert_int_equal(sip_auth_stats(f->a)->bad_credentials, 1);
}

/* auth_algorithms = MD5: one challenge; a SHA-256 answer is a downgrade
 * attempt's mirror image and refused just the same (not offered). */
static void test_algorithms_offered(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512];
	user(f, "alice", "s3cret");
	f->cfg.algs[0] = SIP_ALG_MD5;
	f->cfg.alg_n = 1;
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	assert_null(strstr(f->hdr, "SHA-256"));
	nonce_of(f, "MD5", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	answer(cred, sizeof(cred), false, SIP_ALG_MD5, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
}

static void test_wrong_password_and_forged_nonce(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512];
	user(f, "alice", "s3cret");
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	nonce_of(f, "SHA-256", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "guess", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	assert_int_equal(f->status, 407);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "mallory", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	/* a nonce the switch never issued (one flipped digit of a real one) */
	nonce[5] = nonce[5] == '0' ? '1' : '0';
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	/* the right password for another method's digest (a REGISTER's answer on an INVITE) */
	nonce[5] = nonce[5] == '0' ? '1' : '0';
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "REGISTER");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	/* a valid digest for another Request-URI (the request was redirected
	 * to another number on the way, the credentials kept) */
	answer_uri(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE",
		   "sip:19005550000@sy.example");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	const struct sip_auth_stats *s = sip_auth_stats(f->a);
	assert_int_equal(s->bad_credentials, 5);
	assert_int_equal(s->by_digest, 0);
}

static void test_stale_nonce(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512];
	user(f, "alice", "s3cret");
	f->cfg.nonce_ttl_ns = 30 * SEC;
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	nonce_of(f, "SHA-256", nonce);
	testenv_advance(&f->te, 31 * SEC);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	assert_non_null(strstr(f->hdr, "stale=true"));
	assert_int_equal(sip_auth_stats(f->a)->stale, 1);
	/* the fresh nonce of that challenge works */
	nonce_of(f, "SHA-256", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
}

static void test_nc_replay(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512];
	user(f, "alice", "s3cret");
	start(f);
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", ""), SIP_AUTH_CHALLENGE);
	nonce_of(f, "MD5", nonce);
	answer(cred, sizeof(cred), false, SIP_ALG_MD5, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
	/* the same request again (captured and replayed, from anywhere) */
	assert_int_equal(ask(f, "INVITE", "203.0.113.66:5060", cred), SIP_AUTH_CHALLENGE);
	assert_int_equal(sip_auth_stats(f->a)->replays, 1);
	/* the owner goes on with the next nc */
	answer(cred, sizeof(cred), false, SIP_ALG_MD5, "alice", "s3cret", nonce, "00000002", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_OK);
	/* a lower nc after a higher one is a replay too */
	answer(cred, sizeof(cred), false, SIP_ALG_MD5, "alice", "s3cret", nonce, "00000001", "INVITE");
	assert_int_equal(ask(f, "INVITE", "198.51.100.1:5060", cred), SIP_AUTH_CHALLENGE);
	assert_int_equal(sip_auth_stats(f->a)->replays, 2);
	assert_int_equal(sip_auth_stats(f->a)->by_digest, 2);
}

/* ---- registrar ---- */

static void test_register_and_lookup(void **state)
{
	struct fx *f = *state;
	char nonce[80], cred[512], buf[2048];
	user(f, "alice", "s3cret");
	f->cfg.register_max_s = 600;
	start(f);
	assert_int_equal(ask(f, "REGISTER", "198.51.100.1:40000", ""), SIP_AUTH_CHALLENGE);
	assert_int_equal(f->status, 401);
	assert_non_null(strstr(f->hdr, "WWW-Authenticate: Digest"));
	nonce_of(f, "SHA-256", nonce);
	answer(cred, sizeof(cred), true, SIP_ALG_SHA256, "alice", "s3cret", nonce, "00000001", "REGISTER");
	assert_int_equal(ask(f, "REGISTER", "198.51.100.1:40000", cred), SIP_AUTH_OK);
	int n = snprintf(buf, sizeof(buf),
			 "REGISTER sip:sy.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK2\r\n"
			 "From: <sip:alice@sy.example>;tag=1\r\nTo: <sip:alice@sy.example>\r\nCall-ID: r1@x\r\n"
			 "CSeq: 2 REGISTER\r\nContact: <sip:alice@192.168.1.20:5062>\r\nExpires: 7200\r\n"
			 "Content-Length: 0\r\n\r\n");
	struct sip_msg m;
	char err[128];
	assert_int_equal(sip_msg_parse((const uint8_t *)buf, (size_t)n, &m, err, sizeof(err)), SY_OK);
	struct sy_addr src = addr("198.51.100.1:40000");
	assert_int_equal(sip_reg_update(f->a, &f->id, &m, &src, f->hdr, sizeof(f->hdr), &f->hdr_len), 200);
	/* capped at register_max; the binding's address is the packet's source */
	assert_non_null(strstr(f->hdr, "Contact: <sip:alice@192.168.1.20:5062>;expires=600"));
	struct sy_str contact;
	struct sy_addr dst;
	assert_true(sip_reg_lookup(f->a, SY_STR("alice"), &contact, &dst));
	assert_true(sy_addr_eq(&dst, &src));
	assert_true(sy_str_eq(contact, SY_STR("sip:alice@192.168.1.20:5062")));
	assert_false(sip_reg_lookup(f->a, SY_STR("bob"), &contact, &dst));
	assert_int_equal(sip_auth_stats(f->a)->bindings, 1);
	/* it expires */
	testenv_advance(&f->te, 601 * SEC);
	assert_false(sip_reg_lookup(f->a, SY_STR("alice"), &contact, &dst));
	sip_msg_free(&m);
	/* Expires: 0 removes */
	n = snprintf(buf, sizeof(buf),
		     "REGISTER sip:sy.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK3\r\n"
		     "From: <sip:alice@sy.example>;tag=1\r\nTo: <sip:alice@sy.example>\r\nCall-ID: r1@x\r\n"
		     "CSeq: 3 REGISTER\r\nContact: <sip:alice@192.168.1.20:5062>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse((const uint8_t *)buf, (size_t)n, &m, err, sizeof(err)), SY_OK);
	assert_int_equal(sip_reg_update(f->a, &f->id, &m, &src, f->hdr, sizeof(f->hdr), &f->hdr_len), 200);
	assert_true(sip_reg_lookup(f->a, SY_STR("alice"), &contact, &dst));
	sip_msg_free(&m);
	n = snprintf(buf, sizeof(buf),
		     "REGISTER sip:sy.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK4\r\n"
		     "From: <sip:alice@sy.example>;tag=1\r\nTo: <sip:alice@sy.example>\r\nCall-ID: r1@x\r\n"
		     "CSeq: 4 REGISTER\r\nContact: <sip:alice@192.168.1.20:5062>\r\nExpires: 0\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse((const uint8_t *)buf, (size_t)n, &m, err, sizeof(err)), SY_OK);
	assert_int_equal(sip_reg_update(f->a, &f->id, &m, &src, f->hdr, sizeof(f->hdr), &f->hdr_len), 200);
	assert_false(sip_reg_lookup(f->a, SY_STR("alice"), &contact, &dst));
	assert_int_equal(f->hdr_len, 0);
	/* someone else's address of record: 403 */
	struct sip_ident bob = {SIP_IDENT_USER, 0, "bob", ""};
	assert_int_equal(sip_reg_update(f->a, &bob, &m, &src, f->hdr, sizeof(f->hdr), &f->hdr_len), 403);
	sip_msg_free(&m);
}

int main(void)
{
	sip_global_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7616_vectors),
	    cmocka_unit_test_setup_teardown(test_trunk_longest_prefix_and_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trunk_accepted_unknown_403, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth_unknown_challenge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest_both_algorithms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest_md5_and_stored_ha1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_algorithms_offered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_password_and_forged_nonce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_nonce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nc_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_and_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
