#!/usr/bin/env bash
# it_smpp_npm_nodes.sh: it_smpp_npm.sh against serve running the SMSC as two
# instances ([node] nodes = 2): the npm `smpp` client's bind is handed from
# instance 1 to instance 2 (see the SMPP_NODES notes there).
SMPP_NODES=2 exec bash "$(dirname "$0")/it_smpp_npm.sh" "$@"
