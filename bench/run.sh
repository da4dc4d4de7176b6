#!/usr/bin/env bash
# One command for the benchmarks: installs what they need (wrk, prometheus-alertmanager, ngircd from Debian),
# builds Release, runs bench/bench.py (loopback only; stops everything it starts) and writes docs/benchmarks.md.
#   bash bench/run.sh [--duration 10] [--latency-samples 1000] [--countdowns 8]
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || need+=(ngircd)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Packaged daemons are not wanted: the harness starts its own on free loopback ports.
  for svc in prometheus-alertmanager ngircd; do (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true; done
  pkill -x ngircd >/dev/null 2>&1 || true
fi
dotnet build src/Larsbot -c Release -v q -nologo >/dev/null
exec python3 bench/bench.py "$@"
