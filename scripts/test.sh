#!/usr/bin/env bash
# Runs every Larsbot test. Installs what the tests need when it is missing:
#   ngircd (Debian)          - the real IRC server the IRC and end-to-end tests talk to
#   inspircd, atheme-services (Debian) - a real server with accounts and SASL for the authorisation tests
#   chromium (Debian)       - the headless browser the status page test drives over DevTools (nothing downloaded)
#   Prism 5.14.2 (npm)       - checks our Twilio requests against Twilio's own OpenAPI description
#   prometheus-alertmanager, prometheus, python3-aiosmtpd (Debian) - the real programs the integration tests talk to
#   clang, zlib1g-dev (Debian) - the linker for the native build (scripts/publish.sh) that the *NativeTests run
#   postgresql-15 (Debian)   - the real PostgreSQL the PostgreSQL storage tests start in temp folders (as user postgres)
# Prints the test runner's summary and a closing "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v ngircd >/dev/null 2>&1 && [ ! -x /usr/sbin/ngircd ]; then
  echo "== installing ngircd (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ngircd >/dev/null
  # The package may start its own daemon on 6667; the tests start their own servers on free ports.
  (systemctl stop ngircd || service ngircd stop || pkill -x ngircd) >/dev/null 2>&1 || true
fi

if ! command -v inspircd >/dev/null 2>&1 || ! command -v atheme-services >/dev/null 2>&1; then
  echo "== installing inspircd and atheme-services (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends inspircd atheme-services openssl >/dev/null
  # Packaged daemons are not wanted: tests start their own on free ports (scripts/irc/irc-up.sh).
  for svc in inspircd atheme-services; do (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true; done
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if [ ! -x /usr/bin/prometheus-alertmanager ] || [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/aiosmtpd ]; then
  echo "== installing prometheus-alertmanager, prometheus and python3-aiosmtpd (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus-alertmanager prometheus python3-aiosmtpd >/dev/null
  # The packaged daemons (and the node exporter prometheus pulls in) are not wanted: tests start their own on free ports.
  for svc in prometheus-alertmanager prometheus prometheus-node-exporter; do
    (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
  done
fi

if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "== installing postgresql-15 (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
  # The packaged cluster (15/main on 5432) is not wanted: tests initdb and start their own (tests/.../PostgresServer.cs).
  (systemctl stop postgresql || service postgresql stop || pg_ctlcluster 15 main stop) >/dev/null 2>&1 || true
fi

if [ ! -x .tools/prism/node_modules/.bin/prism ]; then
  echo "== installing Prism 5.14.2 (npm) into .tools/prism"
  npm install --no-audit --no-fund --silent --prefix .tools/prism @stoplight/prism-cli@5.14.2 >/dev/null
fi

# The deployed form: the *NativeTests run this executable through the same end-to-end scenarios as the JIT build.
bash scripts/publish.sh "$root/out/native"
export LARSBOT_NATIVE_BINARY="$root/out/native/larsbot"

results="$root/.run/test-results"
rm -rf "$results"
mkdir -p "$results/sqlite" "$results/postgres"
echo "== dotnet test"
set +e
# A test that hangs is stopped after 8 minutes (the slowest test takes under 2) and named in the output, so a hang is
# a red run that says where, never a silent CI timeout.
hang=(--blame-hang-timeout 8m --blame-hang-dump-type none)
# Four test classes at a time, not xUnit's one per core: most of this pass waits on real servers and clocks, so it
# takes 4 minutes instead of 7 with the same summed test time (measured 2026-12-03). The PostgreSQL pass below keeps
# one per core: with four, its database-heavy tests ran 2-5 times slower on two cores.
dotnet test Larsbot.sln -c Release --logger "trx;LogFileName=results.trx" --logger "console;verbosity=minimal" \
  --results-directory "$results/sqlite" "${hang[@]}" "$@" -- xUnit.MaxParallelThreads=4
status=$?
set -e
# A test host killed by the hang timeout cannot stop the servers it started: stop (and name) them here.
bash scripts/reap-test-leftovers.sh

# The same tests again with every TempDatabase on PostgreSQL (the tests' own server, started as the unprivileged
# postgres user on a free loopback port): everything that stores anything, from the engine's modules to the whole page
# loop, kill -9 and the doors through a real bot (in this process and the native executable). Left out: the tests that
# touch no database (the IRC client, the notifiers, e-mail, the architecture rules), those about SQLite itself
# ([Trait("Provider", "sqlite")]), and those that start their own PostgreSQL in either pass ([Trait("Provider", "postgres")],
# which ran above).
pg_filter="FullyQualifiedName!~Larsbot.Tests.Irc.&FullyQualifiedName!~Larsbot.Tests.Notify.&FullyQualifiedName!~Larsbot.Tests.Email.&FullyQualifiedName!~Larsbot.Tests.ArchitectureTests&FullyQualifiedName!~Larsbot.Tests.Fuzz.IrcServerFuzz&Provider!=sqlite&Provider!=postgres"
echo "== dotnet test, again on PostgreSQL (LARSBOT_TEST_DB=postgres)"
set +e
LARSBOT_TEST_DB=postgres dotnet test tests/Larsbot.Tests -c Release --no-build --filter "$pg_filter" "${hang[@]}" \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=minimal" --results-directory "$results/postgres"
pg_status=$?
set -e
bash scripts/reap-test-leftovers.sh
[ "$status" -eq 0 ] && status=$pg_status

sum() { # counters of every trx: passed failed total executed
  local p=0 f=0 t=0 e=0 trx counters
  for trx in $(find "$results" -name '*.trx'); do
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    p=$((p + $(get passed))); f=$((f + $(get failed))); t=$((t + $(get total))); e=$((e + $(get executed)))
  done
  echo "$p $f $t $e"
}

runs=$(find "$results" -name '*.trx' | wc -l)
if [ "$runs" -eq 2 ]; then
  read -r passed failed total executed <<<"$(sum)"
  skipped=$((total - executed))
  echo
  if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
    # A crashed test host leaves the tests it had not reached out of the counts: never report that as green.
    echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped, and the run was ABORTED (exit $status): see above"
  else
    echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped (both runs: SQLite, and PostgreSQL's pass)"
  fi
else
  echo "tests: a results file is missing ($runs of 2): a run did not complete (exit $status)"
  [ "$status" -eq 0 ] && status=1
fi
exit $status
