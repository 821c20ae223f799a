#!/usr/bin/env bash
# The production files of deploy/, checked and run: the systemd unit with
# systemd-analyze, the relay started as the unit starts it (its command, its
# environment file), behind deploy/nginx/orgsync-relay.conf with a
# throwaway certificate on loopback, and the roles of docs/production.md.
# Needs nginx, openssl and systemd-analyze (Debian: nginx, openssl, systemd),
# the extension installed, the relay built and test/node_modules.
#
#   ORGSYNC_RELAY_BIN=/path/to/orgsync-relay test/production/run.sh    another relay build
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
require_node_modules
require_extension
[ -n "${ORGSYNC_RELAY_BIN:-}" ] || require_relay
for tool in nginx openssl systemd-analyze; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
    need "$tool is missing (Debian: apt-get install nginx openssl systemd)"
done
export PATH=$PATH:/usr/sbin
start_cluster orgsync-production
cd "$test_dir"
node --test --test-reporter=spec production/production.test.mjs
