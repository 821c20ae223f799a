#!/usr/bin/env bash
# Installs what building and testing orgsync needs on Debian bookworm, and
# nothing that is already there. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  make g++ pkg-config                         # build
  postgresql-15 postgresql-server-dev-15      # server, PGXS, pg_regress, isolation tester
  libssl-dev libsimdjson-dev                  # the extension: HMAC, JSON
  nlohmann-json3-dev                          # unit tests build JSON with it
  libpq-dev libcpp-httplib-dev                # the relay
  libgtest-dev                                # C++ unit tests
  clang libclang-rt-14-dev                    # libFuzzer with sanitizers
  nodejs npm                                  # end-to-end and property tests (svix signer)
  curl procps                                 # scripts: health checks, process control
)

missing=()
for package in "${packages[@]}"; do
  # Node may come from elsewhere than Debian (e.g. a preinstalled build).
  if [[ $package == nodejs && -x "$(command -v node)" ]]; then continue; fi
  if [[ $package == npm && -x "$(command -v npm)" ]]; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Test tools from the npm registry, pinned by test/package-lock.json.
if [ ! -d test/node_modules ] || [ test/package-lock.json -nt test/node_modules/.package-lock.json ]; then
  (cd test && npm ci --no-audit --no-fund --loglevel=error)
fi
