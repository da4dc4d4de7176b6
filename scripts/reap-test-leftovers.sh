#!/usr/bin/env bash
# After a test run: stops any server a test host started and could not stop because it was killed (the runner's hang
# timeout kills it without a chance to clean up), and names each one. A process is a leftover when it ran in, or was
# started with, one of the tests' temp folders (/tmp/larsbot-*) and its parent is no longer a dotnet process (the test
# host that owned it is gone). The tests' PostgreSQL servers (/tmp/larsbot-pg-*) are left to their own watchers, which
# stop them and remove their folders when the test host is gone.
set -uo pipefail
found=0
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [ "$pid" = "$$" ] && continue
  cmd=$({ tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null) || continue
  cwd=$(readlink "$dir/cwd" 2>/dev/null) || cwd=""
  case "$cmd $cwd" in */tmp/larsbot-*) ;; *) continue ;; esac
  case "$cmd $cwd" in *postgres*|*pg_ctl*|*watcher*|*reap-test-leftovers*|*/tmp/larsbot-pg-*) continue ;; esac
  # Never a shell (someone's terminal in a test folder): the tests start servers, not shells that outlive them.
  case "$(readlink "$dir/exe" 2>/dev/null)" in */bash|*/sh|*/dash|"") continue ;; esac
  ppid=$(awk '/^PPid:/ { print $2 }' "$dir/status" 2>/dev/null) || continue
  parent=$(readlink "/proc/$ppid/exe" 2>/dev/null) || parent=""
  case "$parent" in */dotnet|*/testhost*) continue ;; esac
  echo "test leftover stopped: pid $pid: ${cmd:0:160}"
  kill -9 "$pid" 2>/dev/null
  found=$((found + 1))
done
[ "$found" -eq 0 ] || echo "($found process(es) left running by a test host that was killed)"
exit 0
