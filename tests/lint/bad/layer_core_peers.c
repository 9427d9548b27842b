// lint-path: core/smpp/x.c
#include "sim/peers/esme.h"
