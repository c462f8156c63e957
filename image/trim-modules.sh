#!/usr/bin/env bash
# trim-modules.sh MODULES_DIR KEEP_FILE: deletes every kernel module that no glob of KEEP_FILE names and that
# no kept module depends on (modules.dep), so that what stays loads.
set -euo pipefail
dir=$1 keep=$2
keep=$(realpath "$keep")
cd "$dir"
wanted=$(mktemp)
trap 'rm -f "$wanted"' EXIT
while read -r glob _; do
  case "$glob" in ''|'#'*) continue ;; esac
  find kernel -path "kernel/$glob" -name '*.ko*' 2>/dev/null || true
done < "$keep" | sort -u > "$wanted"
# Dependencies of what is kept, until nothing new comes.
while :; do
  before=$(wc -l < "$wanted")
  awk -F': *' 'NR==FNR { want[$1]=1; next } ($1 in want) { n=split($2, d, " "); for (i=1;i<=n;i++) print d[i] }' "$wanted" modules.dep \
    | cat - "$wanted" | sort -u > "$wanted.new"
  mv "$wanted.new" "$wanted"
  [ "$(wc -l < "$wanted")" -eq "$before" ] && break
done
find kernel -name '*.ko*' | sort | comm -23 - "$wanted" | xargs -r rm -f
find kernel -type d -empty -delete
echo "trim-modules: kept $(wc -l < "$wanted") modules, $(du -sh kernel | cut -f1)"
