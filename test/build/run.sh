#!/usr/bin/env bash
# The build and the provisioning. The Makefile rebuilds what includes a
# changed header (the compiler's own list of what each source includes is
# the reference), generates the current version's install script from the
# first one and the update scripts, and installs the relay with the
# extension. scripts/install-deps.sh, run against stand-ins for dpkg-query,
# apt-get, sudo, id and npm (in a copy of the scripts, so nothing is
# installed), installs only what is missing and what the job needs, never
# through sudo, and as another user than root says what to run instead.
# Every C++ file of the extension, the relay and the core's tests is as
# .clang-format wants it (skipped, saying so, without clang-format).
# Needs pg_config and the build tools; builds what is not built yet.
set -euo pipefail
. "$(dirname "$0")/../suite-lib.sh"
cd "$repo_dir"
# The make commands below are this suite's own, not part of a caller's make.
unset MAKEFLAGS MFLAGS MAKELEVEL
work=$(mktemp -d /tmp/orgsync-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

make -s everything test/unit/core_tests >/dev/null

echo "header dependencies:"
objects() { { grep -oE -- '-o [^ ]+\.o( |$)' || true; } | cut -d' ' -f2 | sort; }
includes() { # the project headers a source includes, directly or not, as the compiler finds them
  g++ -std=c++17 -MM -Isrc -isystem "$(pg_config --includedir-server)" "$1" | tr -d '\\' | tr ' ' '\n' | grep '^src/.*\.hpp$'
}
sources=(src/*/*.cpp test/unit/*.cpp)
for source in "${sources[@]}"; do includes "$source" >"$work/${source//\//_}.includes"; done
mismatches=""
headers=0
for header in src/*/*.hpp; do
  headers=$((headers + 1))
  expected=$(for source in "${sources[@]}"; do
    if grep -qxF "$header" "$work/${source//\//_}.includes"; then echo "${source%.cpp}.o"; fi
  done | sort)
  actual=$(make -n -W "$header" everything test/unit/core_tests | objects)
  [ "$expected" == "$actual" ] || mismatches+="$header rebuilds [${actual//$'\n'/ }], includers [${expected//$'\n'/ }]; "
done
check "each of the $headers headers rebuilds exactly the objects that include it" "$mismatches" ""
check "and the library and the unit tests with them" \
  "$(make -n -W src/core/writes.hpp everything test/unit/core_tests | grep -oE -- '-o (orgsync\.so|test/unit/core_tests)' | tr '\n' ' ')" \
  "-o orgsync.so -o test/unit/core_tests "
check "a dependency file beside each object" \
  "$(for o in src/*/*.o test/unit/*.o; do [ -f "${o%.o}.d" ] || echo "$o"; done)" ""

echo "the generated install script:"
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" orgsync.control)
script=orgsync--$version.sql
make -s "$script"
check "$script begins with the first version's script" "$(head -n "$(wc -l <orgsync--0.1.0.sql)" "$script" | cmp - orgsync--0.1.0.sql && echo same)" same
check "one guard line, the first" "$(grep -n '^\\echo .*\\quit$' "$script" | cut -d: -f1)" 1
chain=orgsync--0.1.0.sql
from=0.1.0
while [ "$from" != "$version" ]; do
  next=$(ls orgsync--"$from"--*.sql)
  chain+=" $next"
  from=${next##*--}
  from=${from%.sql}
done
check "then every update script, in order" "$(sed -n 's/^-- \(orgsync--.*--.*\.sql\)$/\1/p' "$script" | tr '\n' ' ')" "${chain#* } "
check "each whole, but its guard line" \
  "$(for update in ${chain#* }; do grep -v '^\\echo .*\\quit$' "$update" | grep -qvxFf <(cat "$script") && echo "$update"; done)" ""
check "rebuilt when an update script changes" "$(make -n -W "${chain##* }" "$script" | grep -c install-script.sh)" 1
mkdir "$work/gap"
# 0.1.0 -> 0.2.0 is there, 0.2.0 -> 0.3.0 is not: the chain breaks after a step
cp orgsync--0.1.0.sql orgsync--0.1.0--0.2.0.sql orgsync--0.3.0--0.4.0.sql "$work/gap/"
gap_code=0
gap=$(scripts/install-script.sh "$work/gap/orgsync--0.1.0.sql" 0.4.0 2>&1 >/dev/null) || gap_code=$?
check "a gap in the update scripts fails the build, saying where" "$gap_code $gap" \
  "1 install-script.sh: 0 update scripts from 0.2.0 (none); want one on the way to 0.4.0"
check "make install installs the relay too" "$(make -n install 2>/dev/null | grep -c 'make -C relay install')" 1

echo "scripts/install-deps.sh, against stand-ins:"
mkdir -p "$work/repo/scripts" "$work/repo/test/node_modules" "$work/bin"
cp scripts/install-deps.sh "$work/repo/scripts/"
echo '{}' >"$work/repo/test/package-lock.json"
touch "$work/repo/test/node_modules/.package-lock.json"
log=$work/calls
# dpkg-query -W -f=...: "name installed" for the packages listed in $work/installed;
# like dpkg-query on a fresh machine, it fails when some were never installed.
cat >"$work/bin/dpkg-query" <<EOF
#!/bin/bash
status=0
for p in "\${@:3}"; do grep -qxF "\$p" "$work/installed" && echo "\$p installed" || status=1; done
exit \$status
EOF
logger() { printf '#!/bin/bash\necho "%s $*" >>"%s"\n' "$1" "$log" >"$work/bin/$1"; }
logger apt-get
# apt-get also notes whether services may start while it installs.
printf 'test -x "%s" && ! "%s" || echo "apt-get: services start" >>"%s"\n' \
  "$work/policy-rc.d" "$work/policy-rc.d" "$log" >>"$work/bin/apt-get"
logger sudo
logger npm
printf '#!/bin/bash\necho "${STUB_UID:-0}"\n' >"$work/bin/id"
printf '#!/bin/bash\nexit 0\n' >"$work/bin/node"
chmod +x "$work/bin/"*
# Only the stand-ins and the plain tools the script uses: no Node, no apt.
for tool in bash sh dirname awk grep sed cat chmod rm test; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
every_package=$(sed -n '/^run_packages=(/,/^)/p; /^node_packages=/p; /^test_packages=(/,/^)/p' scripts/install-deps.sh |
  sed 's/#.*//; s/.*=(//; s/)//' | tr ' ' '\n' | grep -v '^$' | sort)
deps() { # deps JOB [env...]: runs the copy with the stand-ins; prints its exit status
  : >"$log"
  local code=0
  env PATH="$work/bin" ORGSYNC_POLICY_RC_D="$work/policy-rc.d" "${@:2}" "$work/repo/scripts/install-deps.sh" "$1" \
    >"$work/out" 2>&1 || code=$?
  echo "$code"
}
installs() { sed -n 's/^apt-get install -y -qq --no-install-recommends //p' "$log" | tr ' ' '\n' | sort | tr '\n' ' '; }

echo "$every_package" >"$work/installed"
check "everything there, make test's job: nothing run" "$(deps test) $(cat "$log")" "0 "
check "and it takes no package manager's time" "$(cat "$work/out")" ""
grep -vxE 'postgresql-server-dev-15|libgtest-dev|nodejs|npm' <<<"$every_package" >"$work/installed"
check "make run's job, as root: apt-get without sudo" "$(deps run) $(grep -c '^sudo' "$log")" "0 0"
check "installs only what make run runs of what is missing" "$(installs)" "postgresql-server-dev-15 "
check "starting no service while it installs, and leaving no policy-rc.d behind" \
  "$(grep -c 'services start' "$log") $(test -e "$work/policy-rc.d" && echo left || echo gone)" "0 gone"
rm "$work/bin/node" "$work/bin/npm"
check "make demo's: Node.js and npm" "$(deps demo) $(installs)" "0 nodejs npm "
check "make test's: all that is missing" "$(deps test) $(installs)" "0 libgtest-dev nodejs npm postgresql-server-dev-15 "
printf '#!/bin/bash\nexit 0\n' >"$work/bin/node"
logger npm
chmod +x "$work/bin/node" "$work/bin/npm"
check "a Node.js from elsewhere serves (its npm comes with it)" "$(deps demo) $(installs)" "0 "
check "another user: exits 1, installs nothing, sudo not run" "$(deps run STUB_UID=1000) $(cat "$log")" "1 "
check "and says what to run" "$(cat "$work/out")" \
  "install-deps: 'make run' needs Debian packages that are missing: postgresql-server-dev-15
  install them as root, then run 'make run' again:
    sudo apt-get install --no-install-recommends postgresql-server-dev-15"
echo "$every_package" >"$work/installed"
touch -d '1 hour ago' "$work/repo/test/node_modules/.package-lock.json"
check "the Node tools: not for make run" "$(deps run) $(cat "$log")" "0 "
check "for make demo and make test, when the lock file changed" "$(deps demo) $(cat "$log")" "0 npm ci --no-audit --no-fund --loglevel=error"
touch "$work/repo/test/node_modules/.package-lock.json"
check "and not again" "$(deps test) $(cat "$log")" "0 "
check "make run and make test provision first" "$(make -n run | head -n 1) / $(make -n test 2>/dev/null | head -n 1)" \
  "scripts/install-deps.sh run / scripts/install-deps.sh test"

echo "formatting:"
if command -v clang-format >/dev/null; then
  # Each file alone, so that the check names the ones to run clang-format -i on.
  mapfile -t cxx < <(find src relay test/unit test/fuzz -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)
  check "the ${#cxx[@]} C++ files of src/, relay/, test/unit/ and test/fuzz/ as .clang-format wants them (clang-format -i FILE)" \
    "$(for file in "${cxx[@]}"; do clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || echo "$file"; done | paste -sd " ")" ""
else
  echo "skipped: the C++ files' formatting, clang-format is missing (scripts/install-deps.sh test installs it)"
fi

echo "build: $failures failed"
((failures == 0))
