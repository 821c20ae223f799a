#!/usr/bin/env bash
# Prints the complete install script of VERSION: BASE (the first version's
# install script, orgsync--X.sql) followed by each update script from X to
# VERSION in order, as `make` builds orgsync--VERSION.sql. The update scripts'
# own "\echo ... \quit" guard lines are dropped: the base script's first line
# guards the whole. Fails when the update scripts do not make one chain.
#   usage: scripts/install-script.sh BASE VERSION
set -euo pipefail
base=${1:?usage: install-script.sh BASE VERSION}
target=${2:?usage: install-script.sh BASE VERSION}
name=$(basename "$base")
extension=${name%%--*}
version=${name#*--}
version=${version%.sql}
dir=$(dirname "$base")

cat "$base"
while [ "$version" != "$target" ]; do
  shopt -s nullglob
  next=("$dir/$extension--$version--"*.sql)
  shopt -u nullglob
  if ((${#next[@]} != 1)); then
    echo "install-script.sh: ${#next[@]} update scripts from $version (${next[*]:-none}); want one on the way to $target" >&2
    exit 1
  fi
  printf '\n-- %s\n' "$(basename "${next[0]}")"
  sed '/^\\echo .*\\quit$/d' "${next[0]}"
  version=${next[0]##*--}
  version=${version%.sql}
done
