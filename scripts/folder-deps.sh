#!/usr/bin/env bash
# Prints which folders of src/Larsbot each folder uses (by `using Larsbot.X` and qualified Larsbot.X names), then
# any cycle. Used to check the architecture rules in docs/architecture.md.
set -euo pipefail
cd "$(dirname "$0")/../src/Larsbot"
folders=$(find . -mindepth 1 -maxdepth 1 -type d ! -name bin ! -name obj -printf '%f\n' | sort)
pattern=$(echo "$folders" | paste -sd'|')
declare -A deps
for d in $folders; do
  deps[$d]=$(grep -rhoE "Larsbot\.($pattern)\b" "$d" --include=*.cs | sed 's/Larsbot\.//' | sort -u | grep -vx "$d" | paste -sd' ' || true)
  echo "$d -> ${deps[$d]}"
done
# tsort reports any cycle, however long.
pairs=$(for a in $folders; do echo "$a $a"; for b in ${deps[$a]}; do echo "$a $b"; done; done)
if echo "$pairs" | tsort 2>&1 >/dev/null | grep -q "cycle"; then
  echo "$pairs" | tsort 2>&1 >/dev/null
  exit 1
fi
echo "no folder cycles"
