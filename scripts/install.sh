#!/usr/bin/env bash
# Installs Larsbot as a systemd service on Debian: builds the native executable (scripts/publish.sh: Native AOT, no
# .NET runtime needed to run it) into /opt/larsbot, creates the
# larsbot user, /etc/larsbot (config chmod 600 owned by larsbot, roster 640) and /var/lib/larsbot (the SQLite file),
# and the unit. Idempotent: an existing config, roster or database is never overwritten, but a config that group or
# others can read is made 600 again (it holds Twilio, Pushover and intake secrets). Run as root from the repository root:
#   sudo bash scripts/install.sh && sudoedit /etc/larsbot/larsbot.json && systemctl enable --now larsbot
# DESTDIR=/tmp/root installs under that folder instead (no user, no ownership, no systemctl); --config-only does only
# the /etc/larsbot part (what the tests run).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${LARSBOT_PREFIX:-/opt/larsbot}
destdir=${DESTDIR:-}
etc="$destdir/etc/larsbot"
config="$etc/larsbot.json"
config_only=false
[ "${1:-}" = "--config-only" ] && config_only=true

# Ownership only for a real install as root; under DESTDIR the files belong to whoever runs this.
owned() { if [ -z "$destdir" ] && [ "$(id -u)" = 0 ]; then echo "-o $1 -g $2"; fi; }

if [ -z "$destdir" ] && [ "$(id -u)" = 0 ]; then
  id larsbot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/larsbot --shell /usr/sbin/nologin larsbot
fi
# shellcheck disable=SC2046
install -d $(owned root larsbot) -m 0750 "$etc"

if [ ! -f "$etc/roster.json" ]; then
  # shellcheck disable=SC2046
  install $(owned root larsbot) -m 0640 roster.sample.json "$etc/roster.json"
fi
if [ ! -f "$config" ]; then
  # Written under umask 077, so not even the empty template is ever readable by others.
  (umask 077 && cat > "$config" <<'JSON'
{
  "Irc": { "Server": "irc.example.net", "Port": 6697, "Tls": true, "Channel": "#ops" },
  "Roster": { "Path": "/etc/larsbot/roster.json" },
  "Database": { "Path": "/var/lib/larsbot/larsbot.db" },
  "Intake": { "HttpUrl": "http://127.0.0.1:8080" },
  "Twilio": { "AccountSid": "", "AuthToken": "", "From": "" },
  "Pushover": { "AppToken": "" }
}
JSON
  )
fi
# The bot (user larsbot) reads it; nobody else may. Existing configs too: earlier versions left it 640.
if [ -z "$destdir" ] && [ "$(id -u)" = 0 ]; then chown larsbot:larsbot "$config"; fi
mode=$(stat -c %a "$config")
if [ "$mode" != 600 ]; then
  chmod 0600 "$config"
  echo "== $config was mode $mode; now 600 (it holds secrets)"
fi
$config_only && exit 0

# shellcheck disable=SC2046
install -d $(owned larsbot larsbot) -m 0750 "$destdir/var/lib/larsbot"
echo "== building the native executable into $destdir$prefix"
bash scripts/publish.sh "$destdir$prefix"
cp README.md "$destdir$prefix/"
install -d "$destdir/etc/systemd/system" "$destdir/usr/local/bin"
install -m 0644 scripts/systemd/larsbot.service "$destdir/etc/systemd/system/larsbot.service"
install -m 0755 scripts/lars-notify "$destdir/usr/local/bin/lars-notify"
if [ -z "$destdir" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "== installed. Edit /etc/larsbot/larsbot.json, then: systemctl enable --now larsbot"
else
  echo "== installed (no systemd here: start it with $prefix/larsbot run --config /etc/larsbot/larsbot.json)"
fi
