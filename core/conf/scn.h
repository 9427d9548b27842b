/* scn.h: the scenario / config file (`switchyard sim SCENARIO`, `switchyard
 * serve CONFIG`): `[section]` / `[section NAME]` headers, `key = value`
 * lines, `# comments`, and `METRIC OP VALUE` lines under [expect]. The
 * parser is table-driven, checks everything before anything runs, and
 * reports the first error as "file:line: message". See docs/scenarios.md. */
#ifndef SY_CONF_SCN_H
#define SY_CONF_SCN_H

#include "core/dist.h"
#include "core/env.h"

#define SCN_CARRIERS_MAX 64
#define SCN_FAULTS_MAX 32
#define SCN_EXPECTS_MAX 64
#define SCN_PREFIXES_MAX 64 /* per carrier */
#define SCN_PREFIX_LEN_MAX 16
#define SCN_DESTS_MAX 16    /* `to` patterns of one traffic section */
#define SCN_REJECTS_MAX 8
#define SCN_NAME_MAX 32
#define SCN_ADDR_MAX 64
#define SCN_PATTERN_MAX 32
#define SCN_PATH_MAX 256
#define SCN_METRIC_MAX 48
#define SCN_EXPECT_TEXT_MAX 128
#define SCN_ERR_MAX 256	      /* a good size for the err buffer */
#define SCN_FILE_MAX (16u << 20) /* larger files are refused */

#define SCN_PPM 1000000u /* 100% */

/* A network path model: latency distribution, jitter (normal sd), loss. */
struct scn_link {
	bool set;
	struct sy_dist latency;
	uint64_t jitter_ns;
	uint32_t loss_ppm;
};

/* One SIP status with its share of the rejected calls. */
struct scn_share {
	uint16_t code;
	uint32_t ppm;
};

struct scn_carrier {
	char name[SCN_NAME_MAX];
	uint32_t line; /* of the section header */
	char prefixes[SCN_PREFIXES_MAX][SCN_PREFIX_LEN_MAX + 1]; /* digits only */
	uint32_t prefix_n;
	char address[SCN_ADDR_MAX]; /* "" = none given (sim creates a host) */
	struct sy_addr addr;	    /* parsed address when address[0] */
	uint32_t capacity;	    /* max concurrent calls; 0 = unlimited */
	int32_t priority;	    /* lower is tried first; default 0 */
	uint32_t answer_ppm;	    /* default 100% */
	struct sy_dist ring;	    /* ring delay of answered calls; default 0s */
	struct scn_share reject[SCN_REJECTS_MAX]; /* default 486 100% */
	uint32_t reject_n;
	struct scn_link link;
	uint64_t rate_micro_per_min; /* price in millionths of a unit per minute */
	uint64_t noanswer_ns;	     /* 0 = not set */
};

struct scn_dest {
	char pattern[SCN_PATTERN_MAX]; /* '+' optional, digits and X (random digit) */
	uint32_t weight_ppm;	       /* shares sum to SCN_PPM */
};

struct scn_traffic_voice {
	bool present;
	uint32_t line;
	uint64_t cps_milli; /* calls per second x 1000 */
	struct scn_dest to[SCN_DESTS_MAX];
	uint32_t to_n;
	char from[SCN_PATTERN_MAX]; /* default +1555XXXXXXX */
	struct sy_dist hold;	    /* default exp 90s */
	struct scn_link link;	    /* access link of the callers */
	uint64_t start_ns;	    /* default 0 */
	uint64_t duration_ns;	    /* 0 = [run] duration */
	uint64_t calls_max;	    /* 0 = no cap */
	char account[SCN_NAME_MAX]; /* the callers belong to this [account]; "" = none */
	uint32_t account_line;
};

#define SCN_ACCOUNTS_MAX 64
#define SCN_SMPP_CARRIERS_MAX 32
#define SCN_TARIFFS_MAX 8
#define SCN_SECRET_MAX 64

enum scn_account_type { SCN_ACCOUNT_PREPAID = 0, SCN_ACCOUNT_POSTPAID };

/* [account NAME]: who pays, and how SMPP/HTTP clients authenticate. With
 * count = N it is a group NAME-0 .. NAME-(N-1); member i owns the caller
 * number callers + i (zero-padded to the digits of N-1). */
struct scn_account {
	char name[SCN_NAME_MAX];
	uint32_t line;
	enum scn_account_type type;
	int64_t balance_micros;	     /* prepaid: starting balance (each member) */
	int64_t credit_limit_micros; /* postpaid: how far below zero it may go */
	char currency[4];	     /* ISO 4217, from the balance ("10.00 USD") */
	char callers[SCN_PATTERN_MAX]; /* caller-number prefix (digits) owned by the account */
	uint32_t count;		       /* 0: a single account */
	char tariff[SCN_NAME_MAX];     /* "" = the first [tariff] */
	char password[SCN_SECRET_MAX]; /* SMPP bind password; system_id is the name */
	char token[SCN_SECRET_MAX];    /* HTTP API bearer token */
	uint32_t tps;		       /* SMPP submit_sm per second; 0 = unlimited */
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
	uint32_t tps;	      /* the carrier's own throttle (sim); 0 = none */
	uint32_t accept_ppm;  /* sim: submit_sm accepted; default 100% */
	uint32_t deliver_ppm; /* sim: accepted messages delivered; default 100% */
	struct sy_dist dlr_delay; /* sim: submit -> receipt; default 1s..5s */
	struct scn_link link;
	uint64_t rate_micros; /* what the carrier charges per message */
	/* sim: the carrier deduplicates re-sends on our key TLV (default yes);
	 * no plays a carrier that ignores it and delivers every re-send */
	bool dedup;
};

/* [traffic sms]: applications (ESMEs) submitting over SMPP. */
struct scn_traffic_sms {
	bool present;
	uint32_t line;
	char account[SCN_NAME_MAX]; /* system_id of the binds; must be an [account] */
	uint32_t account_line;
	uint64_t tps_milli;	    /* submit_sm per second x 1000 */
	uint32_t binds;		    /* default 1 */
	uint32_t window;	    /* outstanding submit_sm per bind; default 10 */
	struct scn_dest to[SCN_DESTS_MAX];
	uint32_t to_n;
	char from[SCN_PATTERN_MAX];
	uint32_t length_min, length_max; /* characters; default 20..140 */
	uint32_t ucs2_ppm;		 /* share of UCS2 messages; default 0 */
	bool dlr;			 /* registered_delivery; default on */
	uint64_t validity_ns;		 /* default 24h */
	struct scn_link link;
	uint64_t start_ns;
	uint64_t duration_ns; /* 0 = [run] duration */
	uint64_t messages_max; /* 0 = no cap */
};

enum scn_fault_kind {
	SCN_FAULT_NONE = 0,
	SCN_FAULT_CARRIER_DOWN, /* carrier = NAME down 10s */
	SCN_FAULT_SMPP_DROP,	/* smpp-carrier = NAME drop 5s: binds cut, reconnect after */
	SCN_FAULT_NODE_CRASH,	/* node = switch crash 5s: killed, restarted after */
	SCN_FAULT_DISK_SLOW,	/* disk = slow 50ms [for 10s]: each write burst stalls the node */
	SCN_FAULT_DISK_FULL,	/* disk = full [for 10s]: writes fail with ENOSPC */
	SCN_FAULT_DISK_FSYNC_FAIL, /* disk = fsync-fail [for 10s]: every fsync fails */
};

struct scn_fault {
	uint32_t line;
	enum scn_fault_kind kind;
	uint64_t at_ns;
	uint64_t duration_ns;	   /* how long the fault lasts (disk: 0 = to the end) */
	uint64_t latency_ns;	   /* disk = slow: the stall per write burst */
	char target[SCN_NAME_MAX]; /* carrier name for CARRIER_DOWN */
	uint32_t target_line;
	int32_t carrier; /* index into scn.carriers / scn.smpp_carriers, resolved after parsing; -1 if none */
};

/* The unit of an expectation value or of a metric. */
enum scn_unit { SCN_UNIT_COUNT = 0, SCN_UNIT_PPM, SCN_UNIT_NS, SCN_UNIT_MONEY /* micro-units */ };
enum scn_op { SCN_OP_GE = 0, SCN_OP_LE, SCN_OP_EQ, SCN_OP_NE, SCN_OP_GT, SCN_OP_LT };

struct scn_expect {
	uint32_t line;
	char metric[SCN_METRIC_MAX];
	enum scn_op op;
	int64_t value;	    /* count, ppm (for %), or ns */
	enum scn_unit unit; /* COUNT for a bare integer */
	char text[SCN_EXPECT_TEXT_MAX]; /* the line as written, trimmed */
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
	char smpp[SCN_ADDR_MAX];    /* SMPP listen address; default 127.0.0.1:2775 */
	struct sy_addr smpp_addr;
	char http[SCN_ADDR_MAX];    /* HTTP API and /metrics; default 127.0.0.1:8080 */
	struct sy_addr http_addr;
};

struct scn {
	char file[SCN_PATH_MAX]; /* name used in messages */
	struct scn_run run;
	struct scn_node node;
	struct scn_carrier carriers[SCN_CARRIERS_MAX];
	uint32_t carrier_n;
	struct scn_traffic_voice voice;
	struct scn_traffic_sms sms;
	struct scn_account accounts[SCN_ACCOUNTS_MAX];
	uint32_t account_n;
	struct scn_tariff tariffs[SCN_TARIFFS_MAX];
	uint32_t tariff_n;
	struct scn_smpp_carrier smpp_carriers[SCN_SMPP_CARRIERS_MAX];
	uint32_t smpp_carrier_n;
	struct scn_fault faults[SCN_FAULTS_MAX];
	uint32_t fault_n;
	struct scn_expect expects[SCN_EXPECTS_MAX];
	uint32_t expect_n;
};

/* Parses text (len bytes, NUL bytes refused) into a new struct scn. On error
 * returns SY_ERR_PARSE (or SY_ERR_NOMEM / SY_ERR_IO), leaves *out NULL and
 * writes "name:line: message" into err. An empty file is valid: defaults. */
enum sy_rc scn_parse_buf(const char *text, size_t len, const char *name, struct scn **out, char *err,
			 size_t errlen);
enum sy_rc scn_parse_string(const char *text, const char *name, struct scn **out, char *err, size_t errlen);
enum sy_rc scn_parse_file(const char *path, struct scn **out, char *err, size_t errlen);
void scn_free(struct scn *s);

/* Index of a carrier by name, or -1. */
int scn_carrier_find(const struct scn *s, const char *name);
int scn_smpp_carrier_find(const struct scn *s, const char *name);
int scn_account_find(const struct scn *s, const char *name);
/* "1234.56 USD" style: micro-units, exact. */
size_t scn_fmt_money(int64_t micros, char *buf, size_t n);
/* The unit a known metric is measured in; false for names not in the table
 * (those are checked only when evaluated). */
bool scn_metric_unit(const char *metric, enum scn_unit *out);
/* "a percentage", "a duration", "a count". */
const char *scn_unit_name(enum scn_unit u);
/* ">=" etc. */
const char *scn_op_str(enum scn_op op);
/* ppm as a percentage, exact and trimmed: 701200 -> "70.12%", 0 -> "0%". */
size_t scn_fmt_ppm(int64_t ppm, char *buf, size_t n);

#endif
