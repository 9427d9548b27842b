/* auth.c: trunks by source address, digest authentication (RFC 7616,
 * RFC 8760) with stateless nonces and nc replay protection. See auth.h.
 * The credentials come from osip's parse of (Proxy-)Authorization (the
 * switch's one parser at its trust boundary), so no hand parser here. */
#include "auth_int.h"
#include "core/sec/secret.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#define NONCE_RAW 32 /* ts(8) | random(8) | mac(16) */
#define NONCE_HEX (NONCE_RAW * 2)

/* ---- hashing ---- */

_Static_assert(NET_SLOTS >= 2 * SIP_TRUNKS_MAX * SIP_TRUNK_NETS_MAX, "the trunk hash stays half empty");

/* H(a:b:c...) of NUL-terminated parts joined by ':' into hex, on a reused
 * context and a fetched algorithm. */
static void h_join_ctx(EVP_MD_CTX *ctx, const EVP_MD *md, const char *const *parts, size_t n, char *out)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			EVP_DigestUpdate(ctx, ":", 1);
		EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	EVP_DigestFinal_ex(ctx, d, &len);
	sy_hex(out, d, len);
}

static void h_join(enum sip_digest_alg alg, const char *const *parts, size_t n, char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	SY_ASSERT(ctx != NULL);
	h_join_ctx(ctx, alg == SIP_ALG_SHA256 ? EVP_sha256() : EVP_md5(), parts, n, out);
	EVP_MD_CTX_free(ctx);
}

void sip_digest_ha1(enum sip_digest_alg alg, const char *user, const char *realm, const char *password, char *out)
{
	const char *p[] = {user, realm, password};
	h_join(alg, p, 3, out);
}

static void response_ctx(EVP_MD_CTX *ctx, const EVP_MD *md, const char *ha1_hex, const char *nonce, const char *nc,
			 const char *cnonce, const char *qop, const char *method, const char *uri, char *out)
{
	char ha2[65];
	const char *p2[] = {method, uri};
	h_join_ctx(ctx, md, p2, 2, ha2);
	const char *p[] = {ha1_hex, nonce, nc, cnonce, qop, ha2};
	h_join_ctx(ctx, md, p, 6, out);
}

void sip_digest_response(enum sip_digest_alg alg, const char *ha1_hex, const char *nonce, const char *nc,
			 const char *cnonce, const char *qop, const char *method, const char *uri, char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	SY_ASSERT(ctx != NULL);
	response_ctx(ctx, alg == SIP_ALG_SHA256 ? EVP_sha256() : EVP_md5(), ha1_hex, nonce, nc, cnonce, qop, method,
		     uri, out);
	EVP_MD_CTX_free(ctx);
}

/* ---- setup ---- */

/* The address with only its first bits kept. */
static struct sy_addr masked(const struct sy_addr *a, uint8_t bits)
{
	struct sy_addr m = {.family = a->family};
	unsigned full = bits / 8, rest = bits % 8;
	memcpy(m.ip, a->ip, full);
	if (rest != 0)
		m.ip[full] = (uint8_t)(a->ip[full] & (0xffu << (8 - rest)));
	return m;
}

static uint32_t net_hash(const struct sy_addr *m, uint8_t bits, uint16_t port)
{
	uint32_t h = 2166136261u ^ (uint32_t)(m->family << 8 | bits) ^ (uint32_t)port << 16;
	for (int i = 0; i < 16; i++)
		h = (h ^ m->ip[i]) * 16777619u;
	return h;
}

static bool net_same(const struct sip_net *n, const struct sy_addr *m, uint8_t bits, uint16_t port)
{
	return n->bits == bits && n->addr.family == m->family && n->addr.port == port &&
	       memcmp(n->addr.ip, m->ip, sizeof(m->ip)) == 0;
}

static int net_find(const struct sip_auth *a, const struct sy_addr *m, uint8_t bits, uint16_t port)
{
	for (uint32_t i = net_hash(m, bits, port) % NET_SLOTS;; i = (i + 1) % NET_SLOTS) {
		const struct auth_net *e = &a->nets[i];
		if (e->trunk1 == 0)
			return -1;
		if (net_same(&e->net, m, bits, port))
			return e->trunk1 - 1;
	}
}

/* Adds a network (the first trunk listing it keeps it) and its length. */
static void net_add(struct sip_auth *a, const struct sip_net *n, uint16_t trunk)
{
	struct sy_addr m = masked(&n->addr, n->bits);
	uint32_t i = net_hash(&m, n->bits, n->addr.port) % NET_SLOTS;
	for (; a->nets[i].trunk1 != 0; i = (i + 1) % NET_SLOTS)
		if (net_same(&a->nets[i].net, &m, n->bits, n->addr.port))
			return;
	m.port = n->addr.port;
	a->nets[i] = (struct auth_net){{m, n->bits}, (uint16_t)(trunk + 1)};
	for (uint32_t k = 0; k < a->len_n; k++)
		if (a->lens[k].family == m.family && a->lens[k].bits == n->bits)
			return;
	SY_ASSERT(a->len_n < NET_LENS_MAX);
	uint32_t k = a->len_n++;
	for (; k > 0 && a->lens[k - 1].bits < n->bits; k--) /* longest first */
		a->lens[k] = a->lens[k - 1];
	a->lens[k] = (struct auth_len){m.family, n->bits};
}

/* The user's HA1 per algorithm: computed from a clear password, or the
 * stored one ("md5:HEX", "sha256:HEX") for its own algorithm only. */
static void user_keys(const struct sip_auth *a, const struct sip_user_cfg *u, struct auth_keys *k)
{
	const char *pw = u->password;
	memset(k, 0, sizeof(*k));
	if (strncmp(pw, "md5:", 4) == 0 && strlen(pw + 4) == 32) {
		snprintf(k->ha1[SIP_ALG_MD5], sizeof(k->ha1[0]), "%s", pw + 4);
	} else if (strncmp(pw, "sha256:", 7) == 0 && strlen(pw + 7) == 64) {
		snprintf(k->ha1[SIP_ALG_SHA256], sizeof(k->ha1[0]), "%s", pw + 7);
	} else {
		sip_digest_ha1(SIP_ALG_MD5, u->name, a->cfg.realm, pw, k->ha1[SIP_ALG_MD5]);
		sip_digest_ha1(SIP_ALG_SHA256, u->name, a->cfg.realm, pw, k->ha1[SIP_ALG_SHA256]);
	}
	for (int i = 0; i < 2; i++) /* hex digests compare in lowercase */
		for (char *c = k->ha1[i]; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
}

struct sip_auth *sip_auth_create(const struct sy_env *env, const struct sip_access_cfg *cfg)
{
	struct sip_auth *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->env = env;
	a->cfg = *cfg;
	if (a->cfg.realm[0] == '\0')
		snprintf(a->cfg.realm, sizeof(a->cfg.realm), "switchyard");
	if (a->cfg.register_max_s == 0)
		a->cfg.register_max_s = 3600;
	a->ttl_ns = cfg->nonce_ttl_ns != 0 ? cfg->nonce_ttl_ns : 300 * SY_NS_PER_S;
	if (a->cfg.alg_n == 0 || a->cfg.alg_n > 2) {
		a->cfg.algs[0] = SIP_ALG_SHA256;
		a->cfg.algs[1] = SIP_ALG_MD5;
		a->cfg.alg_n = 2;
	}
	for (uint32_t t = 0; t < cfg->trunk_n; t++)
		for (uint32_t i = 0; i < cfg->trunks[t].net_n; i++)
			net_add(a, &cfg->trunks[t].nets[i], (uint16_t)t);
	a->md_ctx = EVP_MD_CTX_new();
	a->md[SIP_ALG_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	a->md[SIP_ALG_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (a->md_ctx == NULL || a->md[0] == NULL || a->md[1] == NULL) {
		sip_auth_destroy(a);
		return NULL;
	}
	for (uint32_t u = 0; u < cfg->user_n; u++)
		user_keys(a, &cfg->users[u], &a->keys[u]);
	sy_env_random(env, a->secret, sizeof(a->secret));
	return a;
}

void sip_auth_destroy(struct sip_auth *a)
{
	if (a == NULL)
		return;
	EVP_MD_CTX_free(a->md_ctx);
	EVP_MD_free(a->md[0]);
	EVP_MD_free(a->md[1]);
	free(a);
}

const struct sip_auth_stats *sip_auth_stats(const struct sip_auth *a)
{
	return &a->st;
}

/* ---- trunks ---- */

/* One probe per prefix length in use, longest first; at each length the
 * entry for the source port before the any-port one. */
int sip_auth_trunk_match(const struct sip_auth *a, const struct sy_addr *src)
{
	for (uint32_t k = 0; k < a->len_n; k++) {
		if (a->lens[k].family != src->family)
			continue;
		struct sy_addr m = masked(src, a->lens[k].bits);
		int t = net_find(a, &m, a->lens[k].bits, src->port);
		if (t < 0)
			t = net_find(a, &m, a->lens[k].bits, 0);
		if (t >= 0)
			return t;
	}
	return -1;
}

int sip_auth__user_find(const struct sip_auth *a, struct sy_str name)
{
	for (uint32_t i = 0; i < a->cfg.user_n; i++)
		if (sy_str_eq(name, sy_str_from(a->cfg.users[i].name)))
			return (int)i;
	return -1;
}

/* ---- nonces ---- */

/* SHA-256(secret | head | secret), cut to 16 bytes: a MAC over an input
 * of fixed length (no length extension to fear), one hash on the reused
 * context. */
static void nonce_mac(const struct sip_auth *a, const uint8_t *head16, uint8_t *mac16)
{
	uint8_t md[32];
	unsigned len = 0;
	EVP_DigestInit_ex(a->md_ctx, a->md[SIP_ALG_SHA256], NULL);
	EVP_DigestUpdate(a->md_ctx, a->secret, sizeof(a->secret));
	EVP_DigestUpdate(a->md_ctx, head16, 16);
	EVP_DigestUpdate(a->md_ctx, a->secret, sizeof(a->secret));
	EVP_DigestFinal_ex(a->md_ctx, md, &len);
	memcpy(mac16, md, 16);
}

static void nonce_make(struct sip_auth *a, char *out)
{
	uint8_t raw[NONCE_RAW];
	uint64_t ts = sy_env_now_ns(a->env);
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(ts >> (56 - 8 * i));
	sy_env_random(a->env, raw + 8, 8);
	nonce_mac(a, raw, raw + 16);
	sy_hex(out, raw, NONCE_RAW);
}

/* A nonce of ours: its issue time and MAC; false when forged or garbled. */
static bool nonce_open(const struct sip_auth *a, const char *nonce, uint64_t *ts, uint8_t *tag)
{
	uint8_t raw[NONCE_RAW], mac[16];
	if (strlen(nonce) != NONCE_HEX || !sy_unhex(nonce, NONCE_HEX, raw, NONCE_RAW))
		return false;
	nonce_mac(a, raw, mac);
	if (!sy_ct_equal(mac, raw + 16, 16))
		return false;
	*ts = 0;
	for (int i = 0; i < 8; i++)
		*ts = *ts << 8 | raw[i];
	memcpy(tag, raw + 16, 16);
	return true;
}

enum nc_verdict { NC_FRESH, NC_REPLAY, NC_FORGOTTEN };

/* Records nc for the nonce: it must exceed every nc used before with it.
 * A full bucket drops its oldest nonce and raises the floor past it. */
static enum nc_verdict nc_use(struct sip_auth *a, const uint8_t *tag, uint64_t ts, uint32_t nc)
{
	uint32_t b;
	memcpy(&b, tag, sizeof(b)); /* the MAC is uniform: its bytes index */
	struct nonce_slot *s = &a->slots[(b % (SIP_NONCE_SLOTS / NONCE_WAYS)) * NONCE_WAYS], *victim = NULL;
	uint64_t now = sy_env_now_ns(a->env);
	for (int i = 0; i < NONCE_WAYS; i++) {
		if (s[i].used && memcmp(s[i].tag, tag, 16) == 0) {
			if (nc <= s[i].nc)
				return NC_REPLAY;
			s[i].nc = nc;
			return NC_FRESH;
		}
		bool expired = s[i].used && now - s[i].ts > a->ttl_ns;
		if (!s[i].used || expired)
			victim = &s[i];
		else if (victim == NULL || (victim->used && s[i].ts < victim->ts))
			victim = &s[i];
	}
	if (a->floor_set && ts <= a->floor_ts)
		return NC_FORGOTTEN;
	if (victim->used && now - victim->ts <= a->ttl_ns) {
		a->floor_ts = SY_MAX(a->floor_ts, victim->ts);
		a->floor_set = true;
	}
	*victim = (struct nonce_slot){.ts = ts, .nc = nc, .used = true};
	memcpy(victim->tag, tag, 16);
	return NC_FRESH;
}

/* ---- challenges ---- */

static size_t challenge(struct sip_auth *a, bool www, bool stale, char *hdr, size_t cap)
{
	char nonce[NONCE_HEX + 1];
	const char *name = www ? "WWW-Authenticate" : "Proxy-Authenticate";
	static const char *const alg_name[] = {[SIP_ALG_MD5] = "MD5", [SIP_ALG_SHA256] = "SHA-256"};
	size_t n = 0;
	nonce_make(a, nonce);
	for (int i = 0; i < a->cfg.alg_n; i++) { /* RFC 8760: preferred first */
		int w = snprintf(hdr + n, cap - n, "%s: Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", algorithm=%s%s\r\n",
				 name, a->cfg.realm, nonce, alg_name[a->cfg.algs[i] & 1], stale ? ", stale=true" : "");
		if (w < 0 || (size_t)w >= cap - n)
			return n;
		n += (size_t)w;
	}
	a->st.challenged++;
	return n;
}

/* ---- credentials ---- */

/* A parameter's value without its quotes, into out; "" when absent. */
static void unq(const char *v, char *out, size_t cap)
{
	size_t n = v != NULL ? strlen(v) : 0;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		v++, n -= 2;
	if (n >= cap)
		n = 0; /* too long for any field we accept: treated as absent */
	if (n > 0)
		memcpy(out, v, n);
	out[n] = '\0';
}

struct creds {
	enum sip_digest_alg alg;
	char user[SIP_AUTH_NAME_MAX], realm[SIP_REALM_MAX], nonce[NONCE_HEX + 1], uri[256];
	char response[65], cnonce[128], qop[16], nc[9];
};

static bool alg_offered(const struct sip_auth *a, enum sip_digest_alg alg)
{
	for (int i = 0; i < a->cfg.alg_n; i++)
		if (a->cfg.algs[i] == alg)
			return true;
	return false;
}

/* The first credentials for our realm with an algorithm we offer. */
static bool creds_find(const struct sip_auth *a, const struct sip_msg *req, struct creds *cr)
{
	const osip_list_t *l = req->method == SIP_M_REGISTER ? &req->m->authorizations : &req->m->proxy_authorizations;
	for (int i = 0; i < osip_list_size(l); i++) {
		const osip_authorization_t *h = osip_list_get(l, i);
		char alg[16];
		if (h == NULL || h->auth_type == NULL || strcasecmp(h->auth_type, "Digest") != 0)
			continue;
		unq(h->realm, cr->realm, sizeof(cr->realm));
		unq(h->algorithm, alg, sizeof(alg));
		if (strcmp(cr->realm, a->cfg.realm) != 0)
			continue;
		if (alg[0] == '\0' || strcasecmp(alg, "MD5") == 0)
			cr->alg = SIP_ALG_MD5;
		else if (strcasecmp(alg, "SHA-256") == 0)
			cr->alg = SIP_ALG_SHA256;
		else
			continue;
		if (!alg_offered(a, cr->alg))
			continue;
		unq(h->username, cr->user, sizeof(cr->user));
		unq(h->nonce, cr->nonce, sizeof(cr->nonce));
		unq(h->uri, cr->uri, sizeof(cr->uri));
		unq(h->response, cr->response, sizeof(cr->response));
		unq(h->cnonce, cr->cnonce, sizeof(cr->cnonce));
		unq(h->message_qop, cr->qop, sizeof(cr->qop));
		unq(h->nonce_count, cr->nc, sizeof(cr->nc));
		return true;
	}
	return false;
}

static bool parse_nc(const char *s, uint32_t *out)
{
	uint8_t b[4];
	if (strlen(s) != 8 || !sy_unhex(s, 8, b, 4))
		return false;
	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return *out != 0;
}

/* The digest covers its uri parameter, not the Request-URI: unless they
 * name the same resource, whoever sees an authenticated INVITE in flight
 * could send it to another number under the same credentials (RFC 2617
 * 3.2.2.5). Same resource: the request line's Request-URI byte for byte,
 * or, for a uri without a user part (SIPp 3.6 sends "sip:HOST:PORT"), the
 * Request-URI's host:port: then the dialed number is outside the digest,
 * and only the nc table stands against a replay (docs/security.md). */
static bool uri_is_request_uri(const struct sip_msg *req, const char *uri)
{
	const char *p = memchr(req->raw.p, ' ', req->raw.len);
	if (p == NULL)
		return false;
	p++;
	size_t rest = req->raw.len - (size_t)(p - req->raw.p), n = 0, ul = strlen(uri);
	while (n < rest && p[n] != ' ' && p[n] != '\r' && p[n] != '\n')
		n++;
	if (n == ul && memcmp(p, uri, n) == 0)
		return true;
	const char *at = memchr(p, '@', n);
	if (strchr(uri, '@') != NULL || at == NULL || ul < 4 || memcmp(uri, "sip:", 4) != 0)
		return false;
	size_t hl = 0;
	for (at++; at + hl < p + n && at[hl] != ';' && at[hl] != '?'; hl++)
		;
	return hl == ul - 4 && memcmp(at, uri + 4, hl) == 0;
}

enum digest_verdict { DG_OK, DG_BAD, DG_STALE, DG_REPLAY };

/* Checks the credentials: the user, the nonce's MAC, the response, then
 * the nonce's age and its nc. *user is the user's index when known. */
static enum digest_verdict digest_verify(struct sip_auth *a, const struct sip_msg *req, const struct creds *cr,
					 int *user)
{
	uint64_t ts;
	uint8_t tag[16];
	uint32_t nc;
	char want[65];
	*user = sip_auth__user_find(a, sy_str_from(cr->user));
	if (*user < 0 || a->keys[*user].ha1[cr->alg][0] == '\0' || strcmp(cr->qop, "auth") != 0 ||
	    cr->cnonce[0] == '\0' || !uri_is_request_uri(req, cr->uri) || !parse_nc(cr->nc, &nc) ||
	    !nonce_open(a, cr->nonce, &ts, tag))
		return DG_BAD;
	const char *method = req->m->sip_method != NULL ? req->m->sip_method : "";
	response_ctx(a->md_ctx, a->md[cr->alg], a->keys[*user].ha1[cr->alg], cr->nonce, cr->nc, cr->cnonce, cr->qop,
		     method, cr->uri, want);
	size_t wl = strlen(want);
	char got[65];
	snprintf(got, sizeof(got), "%s", cr->response);
	for (char *c = got; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	if (strlen(got) != wl || !sy_ct_equal(got, want, wl))
		return DG_BAD;
	uint64_t now = sy_env_now_ns(a->env);
	if (ts > now || now - ts > a->ttl_ns)
		return DG_STALE;
	switch (nc_use(a, tag, ts, nc)) {
	case NC_REPLAY:
		return DG_REPLAY;
	case NC_FORGOTTEN:
		return DG_STALE;
	default:
		return DG_OK;
	}
}

enum sip_auth_verdict sip_auth_check(struct sip_auth *a, const struct sip_msg *req, const struct sy_addr *src,
				     struct sip_ident *id, int *status, char *hdr, size_t cap, size_t *hdr_len)
{
	bool www = req->method == SIP_M_REGISTER;
	int t = www ? -1 : sip_auth_trunk_match(a, src); /* trunks do not register */
	*hdr_len = 0;
	if (t >= 0) {
		a->st.by_trunk++;
		*id = (struct sip_ident){SIP_IDENT_TRUNK, (uint16_t)t, a->cfg.trunks[t].name, a->cfg.trunks[t].account};
		return SIP_AUTH_OK;
	}
	if (a->cfg.user_n == 0 && !a->cfg.challenge_unknown) {
		a->st.rejected++;
		return SIP_AUTH_FORBIDDEN;
	}
	*status = www ? 401 : 407;
	struct creds cr;
	memset(&cr, 0, sizeof(cr));
	bool stale = false;
	if (creds_find(a, req, &cr)) {
		int u;
		switch (digest_verify(a, req, &cr, &u)) {
		case DG_OK:
			a->st.by_digest++;
			*id = (struct sip_ident){SIP_IDENT_USER, (uint16_t)u, a->cfg.users[u].name, a->cfg.users[u].account};
			return SIP_AUTH_OK;
		case DG_BAD:
			a->st.bad_credentials++;
			break;
		case DG_STALE:
			a->st.stale++;
			stale = true;
			break;
		case DG_REPLAY:
			a->st.replays++;
			stale = true; /* the owner re-challenges; a replayer gets nothing */
			break;
		}
	}
	*hdr_len = challenge(a, www, stale, hdr, cap);
	return SIP_AUTH_CHALLENGE;
}
