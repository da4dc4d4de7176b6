#!/usr/bin/env bash
# Copied from ../shared/irc/irc-down.sh; stops what irc-up.sh DIR started.
D=${1:?dir}
for p in atheme inspircd; do [ -f "$D/$p.pid" ] && kill "$(cat "$D/$p.pid")" 2>/dev/null; done; true
