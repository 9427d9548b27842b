/* ussd_app.h: a simulated USSD application in the HTTP convention the
 * gateway's client speaks (core/ussd/http.h): an HTTP/1.1 server over the
 * env's streams that takes the POSTed form (sessionId, serviceCode,
 * phoneNumber, text) and answers "CON ..." / "END ..." by walking a
 * declared menu (core/ussd/menu.h) along `text`, statelessly, as real
 * applications in this convention do. Behaviour for the simulator and for
 * `load`'s world: latency per request, a share of 500s, and outage windows
 * in which the application hangs (reads, never answers: the gateway's
 * timeout fires), refuses connections, or answers 503 at once. */
#ifndef SY_PEERS_USSD_APP_H
#define SY_PEERS_USSD_APP_H

#include "core/dist.h"
#include "core/env.h"
#include "core/ussd/menu.h"

#define USSD_APP_OUTAGES_MAX 8

enum ussd_app_outage_mode {
	USSD_APP_OUTAGE_HANG = 0, /* connections accepted, requests read and never answered */
	USSD_APP_OUTAGE_REFUSE,	  /* the listener is closed and open connections dropped */
	USSD_APP_OUTAGE_ERROR,	  /* every request answered 503 at once (a front that lost its backend) */
};

/* A window in which the application is down, from ussd_app_start(). */
struct ussd_app_outage {
	uint64_t start_ns;
	uint64_t duration_ns;
};

/* Zero fields take the defaults given. */
struct ussd_app_cfg {
	const char *name;		  /* for logs (default "ussd-app") */
	uint32_t index;			  /* rng stream: sy_rng_init_split(seed, "ussd_app", index) */
	struct sy_addr listen;		  /* port required */
	const struct ussd_menu_cfg *menu; /* required; must outlive the app */
	const char *path;		  /* answer POSTs to this path only, others 404 (default NULL: any path) */
	struct sy_dist latency;		  /* request complete -> reply sent (default fixed 0) */
	uint32_t fail_ppm;		  /* share of requests answered 500 (after the latency) */
	struct ussd_app_outage outages[USSD_APP_OUTAGES_MAX];
	uint32_t outage_n;
	enum ussd_app_outage_mode outage_mode;
	uint32_t conns_max; /* open connections at once; more are closed at accept (default 16384) */
};

struct ussd_app_stats {
	uint64_t requests;    /* complete requests read (any method or path) */
	uint64_t answered;    /* 200 with CON or END */
	uint64_t continued;   /* of answered: CON */
	uint64_t ended;	      /* of answered: END */
	uint64_t failed;      /* answered 500 (fail_ppm) */
	uint64_t unavailable; /* answered 503 (an error outage) */
	uint64_t dropped;     /* never answered: read during a hang outage, or the connection went first */
	uint64_t bad;	      /* answered 400/404/405/413 (not a form POST, bad framing, too long) */
	uint64_t refused;     /* connections closed at accept (conns_max, or during a refuse outage) */
	uint64_t conns;	      /* connections accepted */
	uint64_t conns_open;  /* gauge */
	uint64_t outages;     /* outage windows begun */
	bool down;	      /* gauge: inside an outage window now */
};

struct ussd_app;

/* Copies cfg (menu and path must outlive the app) and listens. SY_ERR_INVAL
 * with err on a bad cfg; the listen error otherwise. */
enum sy_rc ussd_app_create(const struct sy_env *env, const struct ussd_app_cfg *cfg, struct ussd_app **out, char *err,
			   size_t errlen);
/* Arms the outage windows, counted from now. Without it the app answers
 * but never goes down. */
void ussd_app_start(struct ussd_app *a);
const struct ussd_app_stats *ussd_app_stats(const struct ussd_app *a);
/* Closes the listener and every connection (replies pending are dropped). */
void ussd_app_destroy(struct ussd_app *a);

#endif
