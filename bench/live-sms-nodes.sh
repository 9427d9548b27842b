#!/usr/bin/env bash
# bench/live-sms-nodes.sh BUILD_DIR: bench/live-sms.sh with serve running the
# SMSC as two instances ([node] nodes = 2, one per core, threads): the
# applications are an account group of four members, two binds handed to
# each instance, carrier receipts forwarded between them. One JSON line,
# "bench":"sms-live-nodes".
SY_LIVE_NODES=${SY_LIVE_NODES:-2} SY_LIVE_NAME=sms-live-nodes exec "$(dirname "$0")/live-sms.sh" "$@"
