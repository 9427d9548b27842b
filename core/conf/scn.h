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
};

enum scn_fault_kind { SCN_FAULT_NONE = 0, SCN_FAULT_CARRIER_DOWN };

struct scn_fault {
	uint32_t line;
	enum scn_fault_kind kind;
	uint64_t at_ns;
	uint64_t duration_ns;	   /* how long the fault lasts */
	char target[SCN_NAME_MAX]; /* carrier name for CARRIER_DOWN */
	uint32_t target_line;
	int32_t carrier; /* index into scn.carriers, resolved after parsing; -1 if none */
};

/* The unit of an expectation value or of a metric. */
enum scn_unit { SCN_UNIT_COUNT = 0, SCN_UNIT_PPM, SCN_UNIT_NS };
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
};

struct scn {
	char file[SCN_PATH_MAX]; /* name used in messages */
	struct scn_run run;
	struct scn_node node;
	struct scn_carrier carriers[SCN_CARRIERS_MAX];
	uint32_t carrier_n;
	struct scn_traffic_voice voice;
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
