/* ussd.h: the USSD gateway (issue 13). USSD dialogues (`*123#` menus:
 * balance, mobile money, top-ups) reach the node from an operator's USSD
 * node over SMPP 3.4 (deliver_sm / submit_sm carrying the ussd_service_op
 * TLV and a session reference, codec.h), become sessions here, and are
 * answered by an application: a menu declared in the configuration and
 * served by the gateway itself (menu.h), or an HTTP application in the
 * widely used convention (POST sessionId, serviceCode, phoneNumber, text;
 * reply "CON ..." to continue, "END ..." to finish; http.h).
 *
 * One session per (link, subscriber, service code), with the dialogue
 * states of enum ussd_state; a timeout for the whole session (default
 * 180 s) and for each application reply (default 5 s), both ending in a
 * clean release toward the handset (a final PSSR response with a text);
 * charging per session or per step through billing (a hold at begin, the
 * charge at the end); one record per session (struct udr, store/udr.h).
 *
 * Single-threaded like the rest of the core, deterministic (time from the
 * env, ids from the env's random stream), memory from pools that grow in
 * slabs up to sessions_max: a million concurrent sessions fit in well
 * under 1 GiB (bytes_per_session in the stats). */
#ifndef SY_USSD_USSD_H
#define SY_USSD_USSD_H

#include "core/env.h"
#include "core/metrics/counters.h"
#include "core/sec/limit.h"
#include "core/sec/secret.h"
#include "core/smpp/pdu.h"
#include "core/ussd/menu.h"

#define USSD_NAME_MAX	   32  /* link, service, menu names, with the NUL */
#define USSD_CODE_MAX	   24  /* a service code as dialled, "*123#", with the NUL */
#define USSD_MSISDN_MAX	   21  /* subscriber number (digits, optional '+'), with the NUL */
#define USSD_URL_MAX	   256 /* http://host:port/path, with the NUL */
#define USSD_ADDR_MAX	   64  /* host:port, with the NUL */
#define USSD_LINKS_MAX	   16
#define USSD_SERVICES_MAX  64
#define USSD_SYSTEM_ID_MAX (SMPP_SYSTEM_ID_MAX + 1)
#define USSD_PASSWORD_MAX  160 /* a $pbkdf2-sha256$ string fits */

/* How a link carries the session reference (operators differ). */
enum ussd_ref_kind {
	USSD_REF_ITS_SESSION_INFO = 0, /* its_session_info: octet 1 session number, octet 2 seq<<1 | end bit */
	USSD_REF_USER_MESSAGE_REFERENCE,
};
enum ussd_link_mode {
	USSD_LINK_ACCEPT = 0, /* the operator's USSD node binds to us ([ussd] listen) */
	USSD_LINK_BIND,	      /* we bind (transceiver) to the node at address */
};

/* [ussd-link NAME] */
struct ussd_link_cfg {
	char name[USSD_NAME_MAX];
	uint32_t line; /* in the config file, for messages */
	enum ussd_link_mode mode;
	char system_id[USSD_SYSTEM_ID_MAX]; /* accept: the id the node binds with; bind: ours */
	char password[USSD_PASSWORD_MAX];   /* accept: clear, $sha256$ or $pbkdf2-sha256$; bind: clear */
	char address[USSD_ADDR_MAX];	    /* bind: host:port of the node */
	enum ussd_ref_kind ref;
	/* ussd_service_op value that means "release" from the node (vendor
	 * range 32..255); 0 = only the its_session_info end bit releases */
	uint8_t release_op;
	uint32_t binds;	    /* accept: sessions bound at once (default 4); bind: sessions we open (default 1) */
	uint32_t window;    /* our outstanding submit_sm per SMPP session (default 1000) */
	uint32_t queue_max; /* messages waiting for the window, per link (default 100000) */
};

enum ussd_app_kind { USSD_APP_MENU = 1, USSD_APP_HTTP };
enum ussd_charge { USSD_CHARGE_NONE = 0, USSD_CHARGE_SESSION, USSD_CHARGE_STEP };

/* [ussd-service CODE]: who answers a service code, and what it costs. */
struct ussd_service_cfg {
	char code[USSD_CODE_MAX]; /* "*123#"; a dialled "*123*1*2#" reaches it with inputs "1", "2" */
	uint32_t line;
	enum ussd_app_kind kind;
	uint16_t menu;		 /* kind MENU: index in ussd_cfg.menus */
	char url[USSD_URL_MAX];	 /* kind HTTP: http://host:port/path (no https: refused at parse) */
	uint64_t timeout_ns;	 /* one application reply, retries included (default [ussd] app_timeout) */
	uint32_t retries;	 /* extra attempts after a connect failure or a 502/503/504 (default 1) */
	uint64_t retry_delay_ns; /* before each retry (default 200 ms) */
	uint32_t in_flight_max;	 /* requests to this application at once (default 1000); more: app_overload */
	enum ussd_charge charge;
	/* per session or per step when the payer's tariff has no `ussd` row for
	 * the code's digits (a row wins: fee + rate * units); 0 and no row: free */
	int64_t price_micros;
	char account[USSD_NAME_MAX]; /* "" = the subscriber's own [account] (by caller number); else this one */

	/* for messages and reports: the menu's name (kind MENU), the line of
	 * the menu or url key */
	char menu_name[USSD_NAME_MAX];
	uint32_t app_line;
};

/* [ussd] and the sections above. Texts are UTF-8. */
struct ussd_cfg {
	bool on;			       /* a [ussd] section */
	char listen[USSD_ADDR_MAX];	       /* accept-mode links: host:port ("" = none) */
	uint64_t session_timeout_ns;	       /* whole dialogue (default 180 s) */
	uint64_t app_timeout_ns;	       /* one application reply (default 5 s) */
	uint32_t sessions_max;		       /* concurrent sessions (default 1,048,576); more: refused */
	char timeout_text[USSD_MENU_TEXT_MAX]; /* shown on a timeout release (default "Session timed out.") */
	char error_text[USSD_MENU_TEXT_MAX];   /* application down or bad reply (default "Service unavailable. Try
						  later.") */
	char busy_text[USSD_MENU_TEXT_MAX];    /* refused for load or funds (default "Service busy. Try later.") */
	char unknown_text[USSD_MENU_TEXT_MAX]; /* no such service code (default "Unknown service.") */
	bool records;			       /* write UDRs (default true) */
	struct sy_bind_guard guard; /* accept-mode links (core/sec/limit.h) */
	struct ussd_link_cfg links[USSD_LINKS_MAX];
	uint32_t link_n;
	struct ussd_service_cfg services[USSD_SERVICES_MAX];
	uint32_t service_n;
	struct ussd_menu_cfg menus[USSD_MENUS_MAX];
	uint32_t menu_n;

	uint32_t line; /* of the [ussd] header, for messages (0: no [ussd]) */
};

/* Fills the defaults above (on = false, no links/services/menus). */
void ussd_cfg_defaults(struct ussd_cfg *c);
/* The billing holds the gateway may keep at once: one per open session
 * when some service charges (sessions_max), else 0. The node's billing is
 * sized for its calls plus these (vswitch_cfg.bill_sessions_max). */
uint32_t ussd_charged_sessions_max(const struct ussd_cfg *c);

/* ---- sessions ---- */

enum ussd_state {
	USSD_ST_BEGIN = 0, /* the node's PSSR indication arrived; the application is asked */
	USSD_ST_APP,	   /* waiting for the application's reply */
	USSD_ST_HANDSET,   /* a USSR request (CON text) is at the handset; waiting for its confirm */
	USSD_ST_DONE,	   /* ended (the record is written); the slot is freed */
};

/* How a session ended (the UDR's `end`). */
enum ussd_end {
	USSD_END_NONE = 0,
	USSD_END_COMPLETED,	  /* the application said END and the text went out */
	USSD_END_USER_ABORT,	  /* the handset released (user pressed cancel) */
	USSD_END_NETWORK_ABORT,	  /* the node released, or its link went down */
	USSD_END_APP_ERROR,	  /* the application failed (unreachable, HTTP error, bad reply) */
	USSD_END_APP_TIMEOUT,	  /* no application reply within timeout_ns */
	USSD_END_SESSION_TIMEOUT, /* session_timeout_ns passed */
	USSD_END_REFUSED,	  /* never began: unknown code, sessions_max, no funds; or (charge step) a step the money could not pay */
	USSD_END_SHUTDOWN,	  /* the node stopped with the session open */
	USSD_END_COUNT
};
/* "completed", "user_abort", ... */
const char *ussd_end_name(enum ussd_end e);

struct ussd_stats {
	uint64_t started, completed, user_aborts, network_aborts, app_errors, app_timeouts, session_timeouts;
	uint64_t refused, refused_unknown, refused_full, refused_funds, shutdown;
	uint64_t refused_account; /* charged service: no [account] for the subscriber, or it is suspended */
	uint64_t refused_price;	  /* charged service: no ussd row in the payer's tariff and no flat price */
	uint64_t steps; /* application replies that continued or ended a dialogue */
	uint64_t app_requests, app_retries, app_overload;
	uint64_t app_unsendable; /* a 2xx CON/END whose text does not fit one USSD string: error_text sent */
	uint64_t rx_msgs, tx_msgs, rx_bad; /* dialogue messages from / to the nodes; undecodable ones */
	uint64_t stray;			   /* a message for no open session (answered, released) */
	uint64_t tx_queue_full;		   /* a message to the handset that found the link's queue full */
	uint64_t records, records_failed;
	int64_t charged_micros;
	uint64_t active, active_peak;	   /* gauges */
	uint64_t bytes, bytes_per_session; /* gauges: memory held; bytes / sessions at the peak (measured) */
	uint64_t links_up;		   /* gauge: SMPP sessions bound */
	uint64_t binds_ok, binds_failed;
};

struct ussd;
struct callbill;
struct udr;

/* What the node's assembly gives the gateway (sim/run_ussd.c, cmd/serve.c). */
struct ussd_deps {
	const struct sy_env *env;
	const struct ussd_cfg *cfg;
	const char *store_dir; /* DIR/udrs.sqlite + DIR/udrs.csv; NULL: no files (records counted only) */
	bool sync_full;
	struct callbill *bill; /* NULL: nothing is charged */
	/* Optional: every ended session (after its record is queued), for the
	 * simulator's report and tests. */
	void (*on_end)(void *arg, const struct udr *rec);
	void *on_end_arg;
};

enum sy_rc ussd_create(const struct ussd_deps *d, struct ussd **out, char *err, size_t errlen);
/* Listens ([ussd] listen) and binds the bind-mode links (retrying with
 * backoff while the node is away). */
enum sy_rc ussd_start(struct ussd *u, char *err, size_t errlen);
/* Releases every open session toward its handset (end SHUTDOWN, records
 * written), unbinds, flushes the records. ussd_destroy() after it. */
void ussd_stop(struct ussd *u);
void ussd_destroy(struct ussd *u);
/* The record store's pending rows to disk now (also done on a timer). */
enum sy_rc ussd_flush(struct ussd *u);
const struct ussd_stats *ussd_stats(const struct ussd *u);
/* The HTTP application client's counters (struct ussd_http_stats, http.h),
 * for /metrics' ussd_http_counters table; NULL when no service is HTTP.
 * Like ussd_stats(), a pointer to live counters, read at scrape time.
 * (Added by h13-live for cmd/serve.c; implemented by the engine.) */
struct ussd_http_stats;
const struct ussd_http_stats *ussd_http_stats_of(const struct ussd *u);

#endif
