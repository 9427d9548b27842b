/* scn_fuzz.c: libFuzzer harness on the scenario parser (core/conf/parse.c)
 * with every extension the simulator registers (the world of peers/world.c,
 * [expect] of sim/expect.c), through the in-memory entry
 * sim_scenario_parse_buf(): the text of a scenario file, NUL bytes and all.
 * A refusal must name file:line; an accepted scenario must hold counts
 * within its tables, the world's per-carrier tables in step with the
 * node's, its USSD menus checked and walkable. Built by `make fuzz`; the
 * corpus replays in `make test`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run.h"

/* An accepted [ussd-menu] passed ussd_menu_check and walks any path
 * (the input's first bytes) to a bounded text; services name menus. */
static void check_ussd(const struct ussd_cfg *u, const char *text, size_t size)
{
	SY_ASSERT(u->link_n <= USSD_LINKS_MAX && u->service_n <= USSD_SERVICES_MAX && u->menu_n <= USSD_MENUS_MAX);
	for (uint32_t i = 0; i < u->service_n; i++)
		SY_ASSERT(u->services[i].kind != USSD_APP_MENU || u->services[i].menu < u->menu_n);
	for (uint32_t i = 0; i < u->menu_n; i++) {
		struct ussd_menu_out o;
		SY_ASSERT(ussd_menu_check(&u->menus[i], NULL, 0) == SY_OK);
		ussd_menu_walk(&u->menus[i], (struct sy_str){text, size < 64 ? size : 64}, &o);
		SY_ASSERT(o.len < sizeof(o.text) && o.text[o.len] == '\0');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), err[512];
	memcpy(text, data, size);
	struct sim_scenario *sc = NULL;
	enum sy_rc rc = sim_scenario_parse_buf(text, size, "fuzz.scn", &sc, err, sizeof(err));
	if (rc == SY_OK) {
		SY_ASSERT(sc != NULL);
		const struct world *w = sc->world;
		const struct scn *s = w->scn;
		SY_ASSERT(s->carrier_n <= SCN_CARRIERS_MAX && s->account_n <= SCN_ACCOUNTS_MAX);
		SY_ASSERT(w->carrier_n == s->carrier_n && w->smpp_carrier_n == s->smpp_carrier_n);
		SY_ASSERT(w->fault_n <= WORLD_FAULTS_MAX && sc->expects.n <= EXPECTS_MAX);
		for (uint32_t i = 0; i < s->carrier_n; i++)
			SY_ASSERT(scn_carrier_find(s, s->carriers[i].name) >= 0);
		for (uint32_t i = 0; i < s->account_n; i++)
			SY_ASSERT(scn_account_find(s, s->accounts[i].name) >= 0);
		check_ussd(&s->ussd, text, size);
		sim_scenario_free(sc);
	} else {
		SY_ASSERT(sc == NULL && strncmp(err, "fuzz.scn", 8) == 0);
	}
	free(text);
	return 0;
}
