/* scenario.c: a scenario for the simulator, parsed in one pass: the node's
 * sections, the simulated world (peers/world.h) and [expect] (expect.h). */
#include <stdio.h>
#include <stdlib.h>

#include "run.h"

void sim_scenario_free(struct sim_scenario *sc)
{
	if (sc == NULL)
		return;
	world_free(sc->world);
	free(sc);
}

/* text == NULL: read the file at name. */
static enum sy_rc scenario_parse(const char *name, const char *text, size_t len, struct sim_scenario **out, char *err,
				 size_t errlen)
{
	struct scn_ext xe;
	struct sim_scenario *sc = calloc(1, sizeof(*sc));
	*out = NULL;
	if (sc == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return SY_ERR_NOMEM;
	}
	expect_ext(&sc->expects, &xe);
	const struct scn_ext *exts[] = {&xe};
	enum sy_rc rc = text != NULL ? world_parse_buf(text, len, name, exts, 1, &sc->world, err, errlen)
				     : world_parse_file(name, exts, 1, &sc->world, err, errlen);
	if (rc != SY_OK) {
		free(sc);
		return rc;
	}
	*out = sc;
	return SY_OK;
}

enum sy_rc sim_scenario_parse_file(const char *path, struct sim_scenario **out, char *err, size_t errlen)
{
	return scenario_parse(path, NULL, 0, out, err, errlen);
}

enum sy_rc sim_scenario_parse_buf(const char *text, size_t len, const char *name, struct sim_scenario **out,
				  char *err, size_t errlen)
{
	return scenario_parse(name, text, len, out, err, errlen);
}

enum sy_rc sim_scenario_parse_string(const char *text, const char *name, struct sim_scenario **out, char *err,
				     size_t errlen)
{
	return scenario_parse(name, text, strlen(text), out, err, errlen);
}
