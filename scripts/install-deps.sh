#!/usr/bin/env bash
# Installs on Debian bookworm what one of orgsync's jobs needs, when missing:
#   scripts/install-deps.sh run    building, and `make run`: PostgreSQL 15 and its
#                                  server headers, g++ and make, the libraries of
#                                  the extension and the relay, curl
#   scripts/install-deps.sh demo   `make demo`: Node.js, npm, and the official svix
#                                  package (npm ci in test/, test/package-lock.json)
#   scripts/install-deps.sh test   `make test`: all of the above, and GoogleTest,
#                                  nlohmann-json, clang for libFuzzer, clang-format,
#                                  procps, pg (npm), nginx, openssl and systemd (the
#                                  production files' test: nginx is never started here)
#   scripts/install-deps.sh bench  `make bench`: the test set, and wrk
# What is there already is left alone, so a second call only checks (about
# a tenth of a second). Debian packages need root: another user gets the list
# of what is missing and the command that installs it, and nothing is done.
set -euo pipefail
cd "$(dirname "$0")/.."

run_packages=(
  make g++ pkg-config                     # build
  postgresql-15 postgresql-server-dev-15  # server, PGXS, pg_regress, isolation tester
  libssl-dev                              # the extension: HMAC
  libpq-dev libcpp-httplib-dev            # the relay
  curl                                    # make run: the relay's health check
)
node_packages=(nodejs npm)                # make demo, Node test suites: svix signer, pg
test_packages=(
  nlohmann-json3-dev libgtest-dev         # C++ unit tests
  clang libclang-rt-14-dev                # libFuzzer with sanitizers
  clang-format                            # test/build: the C++ files' formatting
  procps                                  # fault tests: process control
  nginx openssl systemd                   # production files: TLS proxy, certificates, systemd-analyze
)
bench_packages=(wrk)                      # the relay benchmark's load

case "${1:-}" in
  run) packages=("${run_packages[@]}") ;;
  demo) packages=("${node_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${node_packages[@]}" "${test_packages[@]}") ;;
  bench) packages=("${run_packages[@]}" "${node_packages[@]}" "${test_packages[@]}" "${bench_packages[@]}") ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
job=$1

# dpkg-query fails for packages it has never heard of: those are missing too.
installed=$({ dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true; } |
  awk '$2 == "installed" { print $1 }')
missing=()
for package in "${packages[@]}"; do
  # A Node.js installed otherwise (nodesource, nvm) serves as well; its npm
  # comes with it, and Debian's npm package would conflict with it.
  case $package in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  grep -qxF "$package" <<<"$installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: 'make $job' needs Debian packages that are missing: ${missing[*]}" >&2
    echo "  install them as root, then run 'make $job' again:" >&2
    echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages install their services, but start none of them here (nginx
  # would take port 80): the usual policy-rc.d, for this install only.
  # (ORGSYNC_POLICY_RC_D: another path, for test/build's stand-ins.)
  policy=${ORGSYNC_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Node test tools, pinned by test/package-lock.json: installed again only
# when the lock file changed since.
if [ "$job" != run ] && { [ ! -f test/node_modules/.package-lock.json ] ||
  [ test/package-lock.json -nt test/node_modules/.package-lock.json ]; }; then
  echo "install-deps: npm ci in test/"
  (cd test && npm ci --no-audit --no-fund --loglevel=error)
fi
