// lint-path: core/x.c
#  include <pthread.h>
