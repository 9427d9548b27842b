/* node.c: from the file's sections to the components' configs (node.h).
 * The sizes of both sides are checked at compile time, so a copy never
 * truncates. */
#include "core/conf/node.h"

#include <stdio.h>
#include <stdlib.h>

_Static_assert(SWITCH_CARRIERS_MAX >= SCN_CARRIERS_MAX && BILLING_CARRIERS_MAX >= SCN_CARRIERS_MAX,
	       "every [carrier] fits");
_Static_assert(SWITCH_PREFIXES_MAX >= SCN_PREFIXES_MAX && SWITCH_PREFIX_LEN_MAX >= SCN_PREFIX_LEN_MAX &&
		   SMSC_PREFIXES_MAX >= SCN_PREFIXES_MAX && SMSC_PREFIX_LEN_MAX >= SCN_PREFIX_LEN_MAX,
	       "every prefix fits");
_Static_assert(SMSC_CARRIERS_MAX >= SCN_SMPP_CARRIERS_MAX, "every [smpp-carrier] fits");
_Static_assert(BILLING_ACCOUNTS_MAX >= SCN_ACCOUNTS_MAX && BILLING_TARIFFS_MAX >= SCN_TARIFFS_MAX,
	       "every [account] and [tariff] fits");
_Static_assert(SWITCH_NAME_MAX >= SCN_NAME_MAX && SMSC_NAME_MAX >= SCN_NAME_MAX && BILLING_NAME_MAX >= SCN_NAME_MAX,
	       "names fit");
_Static_assert(SMSC_SECRET_MAX >= SCN_SECRET_MAX && BILLING_PATTERN_MAX >= SCN_PATTERN_MAX &&
		   BILLING_PATH_MAX >= SCN_PATH_MAX && SWITCH_PATH_MAX >= SCN_PATH_MAX &&
		   SWITCH_ADDR_MAX >= SCN_ADDR_MAX && SMSC_ADDR_MAX >= SCN_ADDR_MAX,
	       "strings fit");

_Static_assert(SIP_TRUNKS_MAX >= SCN_TRUNKS_MAX && SIP_TRUNK_NETS_MAX >= SCN_TRUNK_NETS_MAX &&
		   SIP_USERS_MAX >= SCN_USERS_MAX && SIP_PASSWORD_MAX >= SCN_PASSWORD_MAX &&
		   SIP_AUTH_NAME_MAX >= SCN_NAME_MAX && SIP_REALM_MAX >= SCN_NAME_MAX + 32,
	       "every [trunk] and [user] fits");

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* Trunks, users and the [node] keys of authentication. A user's account
 * defaults to the [account] of its own name, when there is one. */
static void build_access(const struct scn *s, struct sip_access_cfg *o)
{
	for (uint32_t i = 0; i < s->trunk_n; i++) {
		const struct scn_trunk *t = &s->trunks[i];
		struct sip_trunk_cfg *d = &o->trunks[i];
		COPY(d->name, t->name);
		COPY(d->account, t->account);
		for (uint32_t n = 0; n < t->net_n; n++)
			d->nets[n] = t->nets[n];
		d->net_n = t->net_n;
	}
	o->trunk_n = s->trunk_n;
	for (uint32_t i = 0; i < s->user_n; i++) {
		const struct scn_user *u = &s->users[i];
		struct sip_user_cfg *d = &o->users[i];
		COPY(d->name, u->name);
		COPY(d->password, u->password);
		COPY(d->account, u->account[0] != '\0' || scn_account_find(s, u->name) < 0 ? u->account : u->name);
	}
	o->user_n = s->user_n;
	COPY(o->realm, s->node.realm[0] != '\0' ? s->node.realm : s->node.name[0] != '\0' ? s->node.name : "switchyard");
	o->challenge_unknown = s->node.auth_challenge;
	o->nonce_ttl_ns = s->node.nonce_ttl_ns;
	o->register_max_s = (uint32_t)(s->node.register_max_ns / SY_NS_PER_S);
	for (uint8_t i = 0; i < s->node.auth_alg_n; i++) /* the parser's 1 / 0 are sip_digest_alg's */
		o->algs[i] = s->node.auth_algs[i] == 1 ? SIP_ALG_SHA256 : SIP_ALG_MD5;
	o->alg_n = s->node.auth_alg_n;
}

static void build_switch(const struct scn *s, struct switch_cfg *o)
{
	COPY(o->source, s->file);
	for (uint32_t i = 0; i < s->carrier_n; i++) {
		const struct scn_carrier *c = &s->carriers[i];
		struct switch_carrier_cfg *d = &o->carriers[i];
		COPY(d->name, c->name);
		d->line = c->line;
		for (uint32_t p = 0; p < c->prefix_n; p++)
			COPY(d->prefixes[p], c->prefixes[p]);
		d->prefix_n = c->prefix_n;
		COPY(d->address, c->address);
		d->addr = c->addr;
		d->capacity = c->capacity;
		d->priority = c->priority;
	}
	o->carrier_n = s->carrier_n;
	o->invite_timeout_ns = s->node.invite_timeout_ns;
	o->ring_timeout_ns = s->node.ring_timeout_ns;
	o->max_call_ns = s->node.max_call_ns;
	/* RFC 4028 5: no interval below 90 s; ours is at least our own Min-SE */
	o->min_se_s = (uint32_t)SY_MAX(s->node.min_se_ns / SY_NS_PER_S, 90u);
	o->session_expires_s = s->node.session_expires_ns == 0
				   ? 0
				   : (uint32_t)SY_MAX(s->node.session_expires_ns / SY_NS_PER_S, (uint64_t)o->min_se_s);
	o->calls_max = s->run.calls_max;
	o->txn_max = s->run.txn_max;
	o->t1_ns = s->run.t1_ns;
	o->limits = (struct sip_limits){
	    .mem_max = s->node.sip_memory,
	    .admit_pct = s->node.overload_at,
	    .lag_max_ns = s->node.overload_lag_ns,
	    .retry_after_s = (uint32_t)(s->node.retry_after_ns / SY_NS_PER_S),
	    .osip_max = s->node.osip_memory,
	};
	build_access(s, &o->access);
	o->pike = s->node.pike;
}

static void build_billing(const struct scn *s, struct billing_cfg *o)
{
	COPY(o->source, s->file);
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_account *a = &s->accounts[i];
		struct billing_account_cfg *d = &o->accounts[i];
		COPY(d->name, a->name);
		d->line = a->line;
		d->kind = a->type == SCN_ACCOUNT_POSTPAID ? BILL_POSTPAID : BILL_PREPAID;
		d->balance_micros = a->balance_micros;
		d->credit_limit_micros = a->credit_limit_micros;
		COPY(d->currency, a->currency);
		COPY(d->callers, a->callers);
		d->count = a->count;
		COPY(d->tariff, a->tariff);
	}
	o->account_n = s->account_n;
	for (uint32_t i = 0; i < s->tariff_n; i++) {
		COPY(o->tariffs[i].name, s->tariffs[i].name);
		COPY(o->tariffs[i].file, s->tariffs[i].file);
	}
	o->tariff_n = s->tariff_n;
	for (uint32_t i = 0; i < s->carrier_n; i++) {
		COPY(o->carriers[i].name, s->carriers[i].name);
		o->carriers[i].rate_micro_per_min = s->carriers[i].rate_micro_per_min;
	}
	o->carrier_n = s->carrier_n;
}

/* One SMSC account per [account]; an smpp = yes group gives one per
 * member instead, named as billing names them (callbill_member: NAME-i),
 * so each member binds over SMPP with the group's password. Other groups
 * stay one entry with their count, which the SMSC skips. */
static void build_smsc(const struct scn *s, struct node_cfg *o)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_account *a = &s->accounts[i];
		bool members = a->smpp && a->count > 1;
		for (uint32_t m = 0; m < (members ? a->count : 1); m++) {
			SY_ASSERT(n < SCN_SMSC_ACCOUNTS_MAX); /* node_finish counted them */
			struct smsc_account_cfg *d = &o->smsc_accounts[n++];
			if (members)
				snprintf(d->name, sizeof(d->name), "%s-%u", a->name, m);
			else
				COPY(d->name, a->name);
			COPY(d->password, a->password);
			d->tps = a->tps;
			d->count = members ? 0 : a->count;
			d->smpp = a->smpp;
			d->binds = a->binds;
		}
	}
	o->smsc_account_n = n;
	o->smsc_guard = (struct sy_bind_guard){.bind_timeout_ns = s->node.smpp_bind_timeout_ns,
						.conns_per_source = s->node.smpp_conns_per_source,
						.fail_backoff_ns = s->node.smpp_fail_backoff_ns,
						.fail_backoff_max_ns = s->node.smpp_fail_backoff_max_ns};
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++) {
		const struct scn_smpp_carrier *c = &s->smpp_carriers[i];
		struct smsc_carrier_cfg *d = &o->smsc_carriers[i];
		COPY(d->name, c->name);
		for (uint32_t p = 0; p < c->prefix_n; p++)
			COPY(d->prefixes[p], c->prefixes[p]);
		d->prefix_n = c->prefix_n;
		d->priority = c->priority;
		COPY(d->address, c->address);
		d->addr = c->addr;
		COPY(d->system_id, c->system_id);
		COPY(d->password, c->password);
		d->binds = c->binds;
		d->window = c->window;
	}
	o->smsc_carrier_n = s->smpp_carrier_n;
}

static void build_api(const struct scn *s, struct node_cfg *o)
{
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_account *a = &s->accounts[i];
		if (a->token.kind == SY_SECRET_NONE)
			continue;
		struct api_account *d = &o->api_accounts[o->api_account_n++];
		COPY(d->name, a->name);
		d->token = a->token;
	}
	o->metrics_token = s->node.metrics_token;
	o->metrics_auth = s->node.metrics_auth_set ? s->node.metrics_auth
						    : s->node.metrics_token.kind != SY_SECRET_NONE;
}

_Static_assert(HEP_KEY_MAX >= SCN_HEP_TEXT_MAX && HEP_NODE_MAX >= SCN_HEP_TEXT_MAX, "hep_password and hep_node fit");

static void build_hep(const struct scn *s, struct hep_cfg *o)
{
	o->on = s->node.hep[0] != '\0';
	o->collector = s->node.hep_addr;
	o->capture_id = s->node.hep_id;
	COPY(o->auth_key, s->node.hep_password);
	COPY(o->node_name, s->node.hep_node);
}

void conf_node_build(const struct scn *s, struct node_cfg *out)
{
	memset(out, 0, sizeof(*out));
	build_switch(s, &out->sw);
	build_billing(s, &out->billing);
	build_smsc(s, out);
	build_api(s, out);
	build_hep(s, &out->hep);
	out->fraud = s->fraud; /* the parser filled it (scn_fraud.c) */
	out->ussd = s->ussd;   /* the parser fills it (scn_ussd.c) */
	out->sync_full = s->node.sync_full;
	out->sw.sync_full = s->node.sync_full;
}

struct node_cfg *conf_node_new(const struct scn *s)
{
	struct node_cfg *n = malloc(sizeof(*n));
	if (n != NULL)
		conf_node_build(s, n);
	return n;
}
