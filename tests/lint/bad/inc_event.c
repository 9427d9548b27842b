// lint-path: core/sip/x.c
#include <event2/event.h>
