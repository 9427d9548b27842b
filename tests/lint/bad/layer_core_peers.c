// lint-path: core/smpp/x.c
#include "peers/esme.h"
