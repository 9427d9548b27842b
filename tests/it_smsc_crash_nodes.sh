#!/usr/bin/env bash
# it_smsc_crash_nodes.sh: it_smsc_crash.sh with serve running the SMSC as
# two instances on two threads ([node] nodes = 2): kill -9 under load takes
# both, each recovers its own folder, and no acked message is lost or
# delivered twice (see the CRASH_NODES notes there).
CRASH_NODES=2 exec bash "$(dirname "$0")/it_smsc_crash.sh" "$@"
