/* scn_int.h: between the parser engine (parse.c) and the node's sections
 * (scn.c) inside core/conf; nothing outside core/conf includes it. */
#ifndef SY_CONF_SCN_INT_H
#define SY_CONF_SCN_INT_H

#include "core/conf/scn_ext.h"

/* The node's own sections: [run], [node], [carrier], [account], [tariff],
 * [smpp-carrier]. */
extern const struct scn_ext scn_node_ext;
/* [fraud], [fraud-rule NAME], [account] fraud_class and numbers
 * (scn_fraud.c); its arg is the struct scn too. */
extern const struct scn_ext scn_fraud_ext;
/* [ussd], [ussd-link NAME], [ussd-service CODE], [ussd-menu NAME]
 * (scn_ussd.c); its arg is the struct scn too. */
extern const struct scn_ext scn_ussd_ext;
void scn_defaults(struct scn *s);

#endif
