/* scn_fuzz.c: libFuzzer harness on the scenario parser (core/conf/scn.c)
 * through its in-memory entry scn_parse_buf(): the text of a scenario file,
 * NUL bytes and all. A refusal must name file:line; an accepted scenario
 * must hold counts within its tables. Built by `make fuzz`; the corpus
 * replays in `make test`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf/scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), err[512];
	memcpy(text, data, size);
	struct scn *s = NULL;
	enum sy_rc rc = scn_parse_buf(text, size, "fuzz.scn", &s, err, sizeof(err));
	if (rc == SY_OK) {
		SY_ASSERT(s != NULL);
		SY_ASSERT(s->carrier_n <= SCN_CARRIERS_MAX && s->account_n <= SCN_ACCOUNTS_MAX);
		SY_ASSERT(s->fault_n <= SCN_FAULTS_MAX && s->expect_n <= SCN_EXPECTS_MAX);
		for (uint32_t i = 0; i < s->carrier_n; i++)
			SY_ASSERT(scn_carrier_find(s, s->carriers[i].name) >= 0);
		for (uint32_t i = 0; i < s->account_n; i++)
			SY_ASSERT(scn_account_find(s, s->accounts[i].name) >= 0);
		scn_free(s);
	} else {
		SY_ASSERT(s == NULL && strncmp(err, "fuzz.scn", 8) == 0);
	}
	free(text);
	return 0;
}
