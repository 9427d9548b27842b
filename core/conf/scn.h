/* scn.h: the scenario / config file (`switchyard sim SCENARIO`, `switchyard
 * serve CONFIG`): `[section]` / `[section NAME]` headers, `key = value`
 * lines, `# comments`. The parser is table-driven, checks everything before
 * anything runs, and reports the first error as "file:line: message". See
 * docs/scenarios.md.
 *
 * struct scn holds the node's configuration only: [run], [node], [carrier]
 * and [smpp-carrier] routing, [account], [tariff]. core/conf/node.h turns it
 * into the components' own configs. The simulated world ([traffic], [fault],
 * carriers' behaviour) and [expect] are parsed in the same pass by
 * extensions outside core (scn_ext.h): peers/world.h and sim/expect.h. */
#ifndef SY_CONF_SCN_H
#define SY_CONF_SCN_H

#include "core/dist.h"
#include "core/env.h"
#include "core/fraud/fraud.h"
#include "core/ussd/ussd.h"
#include "core/sip/pike.h"
#include "core/sec/secret.h"

#define SCN_CARRIERS_MAX   64
#define SCN_PREFIXES_MAX   64 /* per carrier */
#define SCN_PREFIX_LEN_MAX 16
#define SCN_NAME_MAX	   32
#define SCN_ADDR_MAX	   64
#define SCN_PATTERN_MAX	   32
#define SCN_PATH_MAX	   256
#define SCN_NODES_MAX	   16 /* [node] nodes: SMSC instances */
#define SCN_ERR_MAX	   256	       /* a good size for the err buffer */
#define SCN_FILE_MAX	   (16u << 20) /* larger files are refused */

#define SCN_PPM 1000000u /* 100% */

struct scn_carrier {
	char name[SCN_NAME_MAX];
	uint32_t line;						 /* of the section header */
	char prefixes[SCN_PREFIXES_MAX][SCN_PREFIX_LEN_MAX + 1]; /* digits only */
	uint32_t prefix_n;
	char address[SCN_ADDR_MAX];  /* "" = none given (sim creates a host) */
	struct sy_addr addr;	     /* parsed address when address[0] */
	uint32_t capacity;	     /* max concurrent calls; 0 = unlimited */
	int32_t priority;	     /* lower is tried first; default 0 */
	uint64_t rate_micro_per_min; /* price in millionths of a unit per minute */
};

#define SCN_ACCOUNTS_MAX      64
#define SCN_SMSC_ACCOUNTS_MAX 256 /* SMPP accounts: each [account] and each member of an smpp = yes group */
#define SCN_SMPP_CARRIERS_MAX 32
#define SCN_TARIFFS_MAX	      8
#define SCN_SECRET_MAX	      160 /* a $pbkdf2-sha256$ string fits */

enum scn_account_type { SCN_ACCOUNT_PREPAID = 0, SCN_ACCOUNT_POSTPAID };

/* [account NAME]: who pays, and how SMPP/HTTP clients authenticate. With
 * count = N it is a group NAME-0 .. NAME-(N-1); member i owns the caller
 * number callers + i (zero-padded to the digits of N-1). A group with
 * smpp = yes gives the SMSC one SMPP account per member (system_id
 * NAME-i, the group's password, tps and binds each). */
struct scn_account {
	char name[SCN_NAME_MAX];
	uint32_t line;
	enum scn_account_type type;
	int64_t balance_micros;	       /* prepaid: starting balance (each member) */
	int64_t credit_limit_micros;   /* postpaid: how far below zero it may go */
	char currency[4];	       /* ISO 4217, from the balance ("10.00 USD") */
	char callers[SCN_PATTERN_MAX]; /* caller-number prefix (digits) owned by the account */
	uint32_t count;		       /* 0: a single account */
	char tariff[SCN_NAME_MAX];     /* "" = the first [tariff] */
	char password[SCN_SECRET_MAX]; /* SMPP bind password (clear or $pbkdf2-sha256$); system_id is the name */
	struct sy_secret token;	       /* HTTP API bearer token (clear or $sha256$); NONE = no HTTP */
	uint32_t tps;		       /* SMPP submit_sm per second; 0 = unlimited */
	bool smpp;		       /* smpp = yes: may bind over SMPP (needs a password) */
	uint32_t binds;		       /* SMPP sessions bound at once; 0 = 8 */
};

/* [tariff NAME]: a rate sheet in the CSV carriers exchange. */
struct scn_tariff {
	char name[SCN_NAME_MAX];
	uint32_t line;
	char file[SCN_PATH_MAX]; /* resolved against the scenario's folder */
};

/* [smpp-carrier NAME]: an upstream SMSC the switch binds to. */
struct scn_smpp_carrier {
	char name[SCN_NAME_MAX];
	uint32_t line;
	char prefixes[SCN_PREFIXES_MAX][SCN_PREFIX_LEN_MAX + 1];
	uint32_t prefix_n;
	int32_t priority;
	char address[SCN_ADDR_MAX]; /* live: where to bind; sim creates a host */
	struct sy_addr addr;
	char system_id[16];
	char password[9];
	uint32_t binds;	      /* sessions to keep bound; default 1 */
	uint32_t window;      /* outstanding submit_sm per bind; default 100 */
	uint64_t rate_micros; /* what the carrier charges per message */
};

#define SCN_TRUNKS_MAX	    64
#define SCN_TRUNK_NETS_MAX  16
#define SCN_USERS_MAX	    256
#define SCN_PASSWORD_MAX    96
#define SCN_HEP_TEXT_MAX   64 /* [node] hep_password, hep_node */

/* [trunk NAME]: a peer allowed by its source address. */
struct scn_trunk {
	char name[SCN_NAME_MAX];
	uint32_t line;
	struct sip_net nets[SCN_TRUNK_NETS_MAX];
	uint32_t net_n;
	char account[SCN_NAME_MAX]; /* billed [account]; "" = none */
};

/* [user NAME]: a SIP digest user (username NAME). */
struct scn_user {
	char name[SCN_NAME_MAX];
	uint32_t line;
	char password[SCN_PASSWORD_MAX]; /* clear text, or md5:HA1 / sha256:HA1 */
	char account[SCN_NAME_MAX];	 /* billed [account]; "" = NAME when it exists */
};

struct scn_run {
	uint64_t duration_ns; /* default 60s */
	uint64_t seed;	      /* default 1 */
	uint64_t drain_ns;    /* default 120s */
	uint64_t epoch_ns;    /* Unix ns; default 2026-01-01T00:00:00Z */
	uint32_t calls_max;   /* 0 = auto */
	uint32_t txn_max;     /* 0 = auto */
	uint64_t t1_ns;	      /* default 500ms */
};

struct scn_node {
	char sip[SCN_ADDR_MAX]; /* default 127.0.0.1:5060 */
	struct sy_addr sip_addr;
	char out[SCN_PATH_MAX]; /* output folder; "" = none */
	char name[SCN_NAME_MAX];
	uint64_t invite_timeout_ns; /* no 1xx from a carrier by then: next carrier; default 3s */
	uint64_t ring_timeout_ns;   /* ringing this long: CANCEL, 480 to the caller; default 120s */
	uint64_t max_call_ns;	    /* connected calls are ended after this; default 4h */
	uint64_t shutdown_grace_ns; /* serve, on SIGTERM: how long the BYEs sent may take; default 2s */
	uint64_t sms_commit_interval_ns; /* SMS queue group commit period; 0 = the SMSC's 5 ms */
	bool sync_full;		     /* sync = full: every store commit fsynced (survives power loss); default normal */
	uint32_t nodes;		     /* SMSC instances, one per core (binds spread by system_id); 0 = 1 */
	uint64_t session_expires_ns; /* RFC 4028 session interval; 0 = off; default 1800s */
	uint64_t min_se_ns;	     /* least session interval accepted (422 below); default 90s */
	char smpp[SCN_ADDR_MAX];    /* SMPP listen address; default 127.0.0.1:2775 */
	struct sy_addr smpp_addr;
	char http[SCN_ADDR_MAX]; /* HTTP API and /metrics; default 127.0.0.1:8080 */
	struct sy_addr http_addr;
	uint64_t sip_memory;	  /* bytes for SIP transactions; 0 = 256 MiB */
	uint32_t overload_at;	  /* percent of a limit where new INVITEs get 503; 0 = 90 */
	uint64_t overload_lag_ns; /* event-loop lag where new INVITEs get 503; 0 = 200ms */
	uint64_t retry_after_ns;  /* Retry-After of those 503s (whole seconds); 0 = 5s */
	uint64_t osip_memory;	  /* osip's pool limit; 0 = 512 MiB (or SWITCHYARD_OSIP_POOL_MB) */
	uint64_t smpp_bind_timeout_ns;	   /* an SMPP stream must bind within; 0 = 5s */
	uint32_t smpp_conns_per_source;	   /* SMPP streams per source IP; 0 = 16 */
	uint64_t smpp_fail_backoff_ns;	   /* a failed bind blocks its source, doubling; 0 = 1s */
	uint64_t smpp_fail_backoff_max_ns; /* up to; 0 = 5m */
	char realm[SCN_NAME_MAX + 32]; /* digest realm; "" = the node's name, or "switchyard" */
	bool auth_challenge;	       /* auth_unknown = challenge (default reject: 403) */
	uint64_t nonce_ttl_ns;	       /* digest nonce lifetime; default 300s */
	uint64_t register_max_ns;      /* longest registration granted; default 3600s */
	uint8_t auth_algs[2];	       /* digest algorithms offered, preferred first: 1 = SHA-256, 0 = MD5 */
	uint8_t auth_alg_n;	       /* 0 = SHA-256 MD5 */
	struct sip_pike_cfg pike; /* per-source request limit; default on (pike.h) */
	/* HTTP API limits (docs/security.md); defaults in scn_defaults() */
	uint64_t http_timeout_ns;      /* a request must arrive whole within it; default 10s */
	uint32_t http_max_header;      /* bytes of request line + headers; default 8192 */
	uint32_t http_max_body;	       /* bytes; default 65536 */
	uint32_t http_max_conns;       /* open connections, all sources; default 512 */
	uint32_t http_conns_per_source; /* open connections per source IP; default 32 */
	bool metrics_auth;	       /* GET /metrics needs metrics_token; default: set when it is */
	bool metrics_auth_set;
	struct sy_secret metrics_token; /* the scraper's bearer token (clear or $sha256$) */
	/* HEPv3 export (docs/pcap.md): a copy of every SIP message to a collector */
	char hep[SCN_ADDR_MAX]; /* "" = off (the default) */
	struct sy_addr hep_addr;
	uint32_t hep_id;			 /* capture agent id; default 2001 */
	char hep_password[SCN_HEP_TEXT_MAX + 1]; /* auth key chunk, sent in clear; "" = none */
	char hep_node[SCN_HEP_TEXT_MAX + 1];	 /* node name chunk; "" = none */
};

/* [account NAME] fraud_class and numbers, by the account's index; turned
 * into fraud_cfg.accounts when the file is read (core/conf/scn_fraud.c). */
struct scn_fraud_account {
	char fraud_class[SCN_NAME_MAX]; /* a [fraud-rule] name; "" = the default rule */
	uint32_t class_line;
	char own[FRAUD_OWN_MAX][FRAUD_NUM_MAX + 2]; /* numbers: "+4420" as written */
	uint32_t own_n;
};

struct scn {
	char file[SCN_PATH_MAX]; /* name used in messages */
	struct scn_run run;
	struct scn_node node;
	struct scn_carrier carriers[SCN_CARRIERS_MAX];
	uint32_t carrier_n;
	struct scn_account accounts[SCN_ACCOUNTS_MAX];
	uint32_t account_n;
	struct scn_tariff tariffs[SCN_TARIFFS_MAX];
	uint32_t tariff_n;
	struct scn_smpp_carrier smpp_carriers[SCN_SMPP_CARRIERS_MAX];
	uint32_t smpp_carrier_n;
	struct scn_trunk trunks[SCN_TRUNKS_MAX];
	uint32_t trunk_n;
	struct scn_user users[SCN_USERS_MAX];
	uint32_t user_n;
	/* [fraud], [fraud-rule NAME] and the [account] fraud keys, ready for
	 * fraud_create (fraud.on false: no [fraud] or enabled = no) */
	struct fraud_cfg fraud;
	/* [ussd], [ussd-link], [ussd-service], [ussd-menu] (scn_ussd.c) */
	struct ussd_cfg ussd;
	struct scn_fraud_account fraud_accounts[SCN_ACCOUNTS_MAX];
};

/* Parses text (len bytes, NUL bytes refused) into a new struct scn, with no
 * extension (scn_ext.h has the calls that take them). On error
 * returns SY_ERR_PARSE (or SY_ERR_NOMEM / SY_ERR_IO), leaves *out NULL and
 * writes "name:line: message" into err. An empty file is valid: defaults. */
enum sy_rc scn_parse_buf(const char *text, size_t len, const char *name, struct scn **out, char *err, size_t errlen);
enum sy_rc scn_parse_string(const char *text, const char *name, struct scn **out, char *err, size_t errlen);
enum sy_rc scn_parse_file(const char *path, struct scn **out, char *err, size_t errlen);
void scn_free(struct scn *s);

/* Index of a carrier by name, or -1. */
int scn_carrier_find(const struct scn *s, const char *name);
int scn_smpp_carrier_find(const struct scn *s, const char *name);
int scn_account_find(const struct scn *s, const char *name);
/* "1234.56 USD" style: micro-units, exact. */
size_t scn_fmt_money(int64_t micros, char *buf, size_t n);
/* ppm as a percentage, exact and trimmed: 701200 -> "70.12%", 0 -> "0%". */
size_t scn_fmt_ppm(int64_t ppm, char *buf, size_t n);

#endif
