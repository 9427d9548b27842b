/* node.h: a parsed config file (scn.h) turned into the configurations of the
 * node's components: the switch (switch.h), the SMSC (smsc.h), billing
 * (callbill.h). The components know these structs only, never the file. */
#ifndef SY_CONF_NODE_H
#define SY_CONF_NODE_H

#include "core/api/api.h"
#include "core/billing/callbill.h"
#include "core/conf/scn.h"
#include "core/fraud/fraud.h"
#include "core/pcap/hep.h"
#include "core/sip/switch.h"
#include "core/smpp/smsc.h"

struct node_cfg {
	struct switch_cfg sw;
	struct billing_cfg billing;
	/* for smsc_cfg.accounts / .carriers (the rest of smsc_cfg is the
	 * caller's: env, listen, store, sizes) */
	struct smsc_account_cfg smsc_accounts[SCN_SMSC_ACCOUNTS_MAX]; /* an smpp = yes group: one per member */
	uint32_t smsc_account_n;
	struct smsc_carrier_cfg smsc_carriers[SCN_SMPP_CARRIERS_MAX];
	uint32_t smsc_carrier_n;
	struct sy_bind_guard smsc_guard; /* for smsc_cfg.guard */
	/* for api_cfg: the accounts with an HTTP token, and /metrics' guard */
	struct api_account api_accounts[SCN_ACCOUNTS_MAX];
	uint32_t api_account_n;
	bool metrics_auth; /* [node] metrics_auth, by default whether metrics_token is set */
	struct sy_secret metrics_token;
	struct hep_cfg hep;	/* [node] hep, hep_id, hep_password, hep_node; .on false = no export */
	struct fraud_cfg fraud; /* [fraud], [fraud-rule]; .on false = no fraud component */
	struct ussd_cfg ussd;	/* [ussd] and its sections; .on false = no USSD gateway */
	/* [node] sync = full: the stores fsync every commit (smsc_cfg.sync_full,
	 * ussd_deps.sync_full; the switch's in sw.sync_full) */
	bool sync_full;
};

/* Fills *out from s (every field: no defaults are left to the caller). */
void conf_node_build(const struct scn *s, struct node_cfg *out);
/* The same, into a new heap struct (it is large); NULL when out of memory.
 * Free with free(). */
struct node_cfg *conf_node_new(const struct scn *s);

#endif
