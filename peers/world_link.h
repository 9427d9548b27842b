/* world_link.h: a network path model of the simulated world (world.h): a
 * latency distribution, jitter and loss, as the `link` keys write it. On
 * its own so the world's parts (world_ussd.h) can hold one. */
#ifndef SY_PEERS_WORLD_LINK_H
#define SY_PEERS_WORLD_LINK_H

#include "core/dist.h"

/* A network path model: latency distribution, jitter (normal sd), loss. */
struct world_link {
	bool set;
	struct sy_dist latency;
	uint64_t jitter_ns;
	uint32_t loss_ppm;
};

#endif
