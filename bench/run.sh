#!/usr/bin/env bash
# One command for the benchmarks: installs what they need (wrk, prometheus-alertmanager, ngircd, postgresql-15 from
# Debian), builds the deployed form (scripts/publish.sh: the Native AOT executable) and the JIT build, runs
# bench/bench.py on the native one with its PostgreSQL rows (--postgres: a throw-away PostgreSQL 15 server for the run;
# loopback only; stops everything it starts) and writes docs/benchmarks.md, then bench/lean.py's
# table of start-up and idle memory under each runtime option, JIT and native, and bench/timing.py's lines and pages
# at the default settings (>= 500 samples each), appended to it.
#   bash bench/run.sh [--duration 10] [--latency-samples 1000] [--countdowns 8]
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || need+=(ngircd)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Packaged daemons are not wanted: the harness starts its own on free loopback ports.
  for svc in prometheus-alertmanager ngircd postgresql; do (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true; done
  pkill -x ngircd >/dev/null 2>&1 || true
fi
dotnet build src/Larsbot -c Release -v q -nologo >/dev/null
bash scripts/publish.sh out/native >/dev/null
python3 bench/bench.py --postgres --native "$PWD/out/native/larsbot" "$@"
{
  echo
  echo "## Start-up and idle memory under each runtime option (bench/lean.py, same run)"
  echo
  echo "Process spawn to first 202 on a fresh SQLite file, and RSS 5 s later with nothing happening; median of 5 starts"
  echo "each, one after another. The JIT rows run the Release build's apphost; the native rows the executable above."
  echo
  python3 bench/lean.py --native "$PWD/out/native/larsbot" | sed -n '/^| option/,$p'
  # Timing at the default settings: 40 bots side by side for about 6 minutes (bench/timing.py says how).
  python3 bench/timing.py --native "$PWD/out/native/larsbot" | sed -n '/^## Timing/,$p'
} >> docs/benchmarks.md
