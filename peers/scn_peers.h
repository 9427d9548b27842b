/* scn_peers.h: the simulated peers a scenario describes, as configs for the
 * peer modules: callers ([traffic voice] -> uac), voice carriers ([carrier]
 * -> uas), applications ([traffic sms] -> esme) and SMS carriers
 * ([smpp-carrier] -> smsc_peer). The simulator and the live load generator
 * (`switchyard load`, `switchyard carriers`) build their peers through these
 * functions, so a scenario means the same traffic in both. */
#ifndef SIM_PEERS_SCN_PEERS_H
#define SIM_PEERS_SCN_PEERS_H

#include "esme.h"
#include "smsc_peer.h"
#include "uac.h"
#include "uas.h"
#include "world.h"

/* Pool size for callers and carriers: arrivals x (ring + hold) with slack. */
uint32_t scn_peers_calls_max(const struct world *w);

/* dests must hold WORLD_DESTS_MAX entries and outlive the uac. */
void scn_peers_uac(const struct world *w, struct sy_addr local, struct sy_addr target, uint32_t calls_max,
		   struct uac_dest *dests, struct uac_cfg *out);
void scn_peers_uas(const struct world *w, uint32_t carrier, struct sy_addr local, uint32_t calls_max,
		   struct uas_cfg *out);
/* The account's password comes from [account]; digits patterns lose '+'. */
void scn_peers_esme(const struct world *w, struct sy_addr target, char (*patterns)[WORLD_PATTERN_MAX],
		    struct esme_cfg *out);
void scn_peers_smsc(const struct world *w, uint32_t carrier, struct sy_addr listen, struct smsc_peer_cfg *out);

#endif
