/* json_fuzz.c: libFuzzer harness on the flat JSON parser of the HTTP API
 * (core/json.c). The scratch buffer is exactly as long as json.h requires
 * (len bytes), so an unescape that writes past it shows; every key and
 * value returned must lie in the scratch buffer or in the input. Built by
 * `make fuzz`; the corpus replays in `make test`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static bool inside(struct sy_str s, const char *p, size_t len)
{
	return s.len == 0 || (s.p >= p && s.len <= len && s.p + s.len <= p + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1), *scratch = malloc(size ? size : 1), err[96];
	memcpy(in, data, size);
	struct json_obj o;
	err[0] = '\0';
	enum sy_rc rc = json_parse_flat(in, size, scratch, size, &o, err, sizeof(err));
	if (rc == SY_OK) {
		SY_ASSERT(o.n <= JSON_FIELDS_MAX);
		for (uint32_t i = 0; i < o.n; i++) {
			const struct json_field *f = &o.f[i];
			SY_ASSERT(inside(f->key, scratch, size));
			SY_ASSERT(f->is_string ? inside(f->value, scratch, size) : inside(f->value, in, size));
			SY_ASSERT(f->is_string || f->value.len > 0);
			for (uint32_t k = 0; k < i; k++) /* duplicate keys are refused */
				SY_ASSERT(!sy_str_eq(o.f[k].key, f->key));
		}
		struct sy_str v;
		static const char *keys[] = {"from", "to", "text"};
		for (size_t k = 0; k < SY_ARRAY_LEN(keys); k++)
			if (json_get_str(&o, keys[k], &v))
				SY_ASSERT(inside(v, scratch, size));
	} else {
		SY_ASSERT(rc == SY_ERR_PARSE && err[0] != '\0');
	}
	free(scratch);
	free(in);
	return 0;
}
