/* smsc_bind.c: who may bind to the SMSC, and how fast a source may fail.
 * Only accounts with smpp = yes bind, with a non-empty password checked in
 * constant time (core/sec/secret.h); every refusal is the same
 * ESME_RBINDFAIL, and an unknown system_id is checked against a dummy
 * secret, so neither the status nor the work tells which names exist. A
 * failed bind blocks its source with exponential backoff (core/sec/limit.h);
 * a stream is closed after bind_fails_max failures; a source holds at most
 * conns_per_source streams, so one address cannot fill the session pool. */
#include <stdio.h>

#include "core/smpp/smsc_int.h"

#define GUARD_BINDS_DEFAULT 8u

static void guard_dummy(struct smsc *s)
{
	sy_secret_dummy_begin(&s->dummy);
	for (uint32_t i = 0; i < s->acct_n; i++)
		sy_secret_dummy_fold(&s->dummy, &s->accts[i].secret);
	sy_env_random(s->env, s->dummy.salt, sizeof(s->dummy.salt));
	sy_env_random(s->env, s->dummy.hash, sizeof(s->dummy.hash));
}

enum sy_rc smsc__guard_setup(struct smsc *s, char *err, size_t errlen)
{
	sy_bind_guard_defaults(&s->cfg.guard);
	for (uint32_t i = 0; i < s->acct_n; i++) {
		struct smsc_account *a = &s->accts[i];
		const char *pw = a->cfg->password;
		char why[128] = "";
		if (!a->cfg->smpp)
			continue; /* secret stays NONE: nothing matches it */
		if (sy_secret_parse(&a->secret, pw, strlen(pw), why, sizeof(why)) != SY_OK) {
			snprintf(err, errlen, "smsc: [account %s] smpp = yes: password: %s", a->cfg->name,
				 why[0] ? why : "empty");
			return SY_ERR_INVAL;
		}
	}
	guard_dummy(s);
	struct sy_srclimit_cfg lc = {
	    .conns = s->cfg.guard.conns_per_source, .slots = 4096, .seed = sy_env_random_u64(s->env)};
	if (sy_srclimit_create(&lc, &s->src) != SY_OK) {
		snprintf(err, errlen, "smsc: out of memory");
		return SY_ERR_NOMEM;
	}
	return SY_OK;
}

void smsc__guard_free(struct smsc *s)
{
	sy_srclimit_destroy(s->src);
	s->src = NULL;
}

bool smsc__bind_accept(void *arg, struct smpp_session *ss)
{
	struct smsc *s = arg;
	const struct sy_addr *from = smpp_session_peer(ss);
	uint64_t now = sy_env_now_ns(s->env);
	if (sy_srclimit_blocked(s->src, from, now)) {
		s->st.conns_refused_blocked++;
		return false;
	}
	if (!sy_srclimit_conn_open(s->src, from, now)) {
		s->st.conns_refused_source++;
		return false;
	}
	return true;
}

/* Every refusal: the one status, and the source waits longer each time
 * (also for binds tried while it waits, which are not even checked). */
static uint32_t bind_refuse(struct smsc *s, const struct sy_addr *from, uint64_t now)
{
	const struct sy_bind_guard *g = &s->cfg.guard;
	s->st.bind_failures++;
	if (!sy_srclimit_blocked(s->src, from, now))
		s->st.sources_blocked++;
	sy_srclimit_fail(s->src, from, now, g->fail_backoff_ns, g->fail_backoff_max_ns);
	return ESME_RBINDFAIL;
}

uint32_t smsc__bind_auth(void *arg, struct smpp_session *ss, struct sy_str system_id, struct sy_str password,
			 enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct smsc *s = arg;
	const struct sy_addr *from = smpp_session_peer(ss);
	uint64_t now = sy_env_now_ns(s->env);
	if (sy_srclimit_blocked(s->src, from, now))
		return bind_refuse(s, from, now);
	int32_t i = smsc__account_find(s, system_id);
	struct smsc_account *a = i >= 0 && s->accts[i].cfg->smpp ? &s->accts[i] : NULL;
	/* The check runs whether or not the name exists: same work either way. */
	s->st.bind_checks++;
	bool match = sy_secret_check(a != NULL ? &a->secret : &s->dummy, password.p, password.len);
	if (!match || a == NULL || password.len == 0)
		return bind_refuse(s, from, now);
	sy_srclimit_success(s->src, from);
	uint32_t cap = a->cfg->binds != 0 ? a->cfg->binds : GUARD_BINDS_DEFAULT;
	if (a->bound >= cap) {
		s->st.binds_over_cap++; /* not a failed login: no backoff */
		return ESME_RBINDFAIL;
	}
	a->bound++;
	s->st.binds_ok++;
	*tb = &a->tb;
	smpp_session_set_user(ss, a);
	return ESME_ROK;
}

void smsc__bind_closed(struct smsc *s, struct smpp_session *ss, enum smpp_close_reason why)
{
	sy_srclimit_conn_close(s->src, smpp_session_peer(ss));
	if (why == SMPP_CLOSE_BIND_TIMEOUT && smpp_session_user(ss) == NULL)
		s->st.bind_timeouts++;
	else if (why == SMPP_CLOSE_BIND_FAILED)
		s->st.bind_closed_fails++;
	struct smsc_account *a = smpp_session_user(ss);
	if (a != NULL) {
		SY_ASSERT(a->bound > 0);
		a->bound--;
	}
}
