/* world_ussd.h: the USSD part of the simulated world (world_ussd.c):
 * [traffic ussd], the handsets and the operator's USSD node that carries
 * their dialogues to the gateway (peers/ussd_net.h), and [ussd-app NAME],
 * a simulated HTTP application (peers/ussd_app.h) with its latency,
 * failures and outage. The node's own sections ([ussd], [ussd-link],
 * [ussd-service], [ussd-menu]) are core/conf/scn_ussd.c's. Keys are listed
 * in docs/scenarios.md, "USSD: the simulated world". */
#ifndef SY_PEERS_WORLD_USSD_H
#define SY_PEERS_WORLD_USSD_H

#include "core/conf/scn_ext.h"
#include "peers/ussd_net.h"
#include "peers/world_link.h"

struct world;

#define WORLD_USSD_APPS_MAX 8

/* [traffic ussd] */
struct world_ussd_traffic {
	bool present;
	uint32_t line;
	uint64_t rate_milli; /* dialogues per second x 1000 */
	uint8_t arrivals;    /* enum ussd_net_arrivals */
	uint64_t start_ns;
	uint64_t duration_ns; /* 0 = [run] duration */
	uint64_t sessions_max;
	/* codes = *123# 70% *456# 30% (weights in ppm; equal shares when none) */
	char codes[USSD_NET_CODES_MAX][USSD_CODE_MAX];
	uint32_t code_ppm[USSD_NET_CODES_MAX];
	uint32_t code_n;
	uint32_t codes_line;
	/* paths = 1 30%, 2*0722000111*100*1 50%, 3*1 20%  (every code), or
	 * groups per code: *123#: 1 50%, 2*1 50%; *456#: 1 100% */
	char paths[USSD_NET_PATHS_MAX][USSD_NET_PATH_MAX];
	uint32_t path_ppm[USSD_NET_PATHS_MAX];
	int8_t path_code[USSD_NET_PATHS_MAX]; /* index into codes, -1: every code */
	uint32_t path_n;
	uint32_t paths_line;
	struct sy_dist think;	      /* default fixed 2s */
	uint32_t abandon_ppm;	      /* per screen */
	uint64_t handset_timeout_ns;  /* default 200s */
	char msisdn[USSD_MSISDN_MAX]; /* default 2547XXXXXXXX */
	uint32_t handsets;	      /* default 100000 */
	/* the gateway link the node serves: a [ussd-link] name ("" = the first) */
	char ussd_link[USSD_NAME_MAX];
	uint32_t ussd_link_line;
	/* node = bind|accept: how the node meets the gateway (default: the
	 * opposite of the link's mode; without a [ussd-link], bind) */
	int8_t node_mode;		    /* -1 = from the link; else enum ussd_net_mode */
	char system_id[USSD_SYSTEM_ID_MAX]; /* default: the link's */
	char password[USSD_PASSWORD_MAX];   /* default: the link's (in the clear: the node sends it) */
	int8_t ref;			    /* -1 = the link's; else enum ussd_ref_kind */
	int16_t release_op;		    /* -1 = the link's (or 32); 0 = the end bit only */
	uint32_t binds, window;		    /* 0 = ussd_net defaults */
	char listen[SCN_ADDR_MAX];	    /* node = accept, live: where the node listens */
	struct sy_addr listen_addr;
	bool listen_set;
	struct world_link link; /* the node <-> switch network */
};

enum world_ussd_outage_mode {
	WORLD_USSD_OUTAGE_HANG = 0, /* connections accepted, requests never answered */
	WORLD_USSD_OUTAGE_REFUSE,   /* connections refused */
	WORLD_USSD_OUTAGE_ERROR,    /* answered 503 */
};

/* [ussd-app NAME] */
#define WORLD_USSD_OUTAGES_MAX 8
struct world_ussd_app {
	char name[SCN_NAME_MAX];
	uint32_t line;
	char listen[SCN_ADDR_MAX]; /* IP:PORT of its own sim host (what [ussd-service] url names) */
	struct sy_addr listen_addr;
	char path[SCN_NAME_MAX];       /* answers POSTs to this path only ("" = any) */
	char menu[USSD_MENU_NAME_MAX]; /* the [ussd-menu] it answers from */
	uint32_t menu_line;
	int32_t menu_index;	/* resolved after parsing */
	struct sy_dist latency; /* request -> reply (default fixed 0) */
	uint32_t fail_ppm;	/* requests answered 500 */
	uint64_t outage_start_ns[WORLD_USSD_OUTAGES_MAX], outage_ns[WORLD_USSD_OUTAGES_MAX];
	uint32_t outage_n;
	uint8_t outage_mode;	/* enum world_ussd_outage_mode */
	struct world_link link; /* the app host <-> switch network */
};

struct world_ussd {
	struct world_ussd_traffic traffic;
	struct world_ussd_app apps[WORLD_USSD_APPS_MAX];
	uint32_t app_n;
};

extern const struct scn_sec_def world_ussd_traffic_sec, world_ussd_app_sec;
void world_ussd_init(struct world_ussd *u);
enum sy_rc world_ussd_check(struct scn_pctx *c, const struct scn *s, struct world_ussd *u);

/* The handsets and node of [traffic ussd] as a ussd_net config (pointing
 * into w, which must outlive the node). gateway / listen are left for the
 * caller (the sim hosts, or `load --target`). SY_ERR_INVAL with err when
 * the traffic cannot be built (no [traffic ussd]). */
enum sy_rc world_ussd_net_cfg(const struct world *w, struct ussd_net_cfg *out, char *err, size_t errlen);

#endif
