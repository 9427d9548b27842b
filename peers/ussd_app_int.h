/* ussd_app_int.h: the application's form parser (ussd_app.c), outside its
 * file for the fuzz harness (fuzz/ussd_app_fuzz.c), which calls it on
 * exact-size copies so ASan sees a read past the end of a body. */
#ifndef SY_PEERS_USSD_APP_INT_H
#define SY_PEERS_USSD_APP_INT_H

#include "core/env.h"

/* The form's field `name`, percent- and '+'-decoded into out (NUL-ended,
 * *len bytes); false when absent, malformed or not shorter than cap. */
bool ussd_app__form_get(struct sy_str body, const char *name, char *out, size_t cap, size_t *len);

#endif
