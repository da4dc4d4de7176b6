#!/usr/bin/env bash
# Installs Larsbot as a systemd service on Debian: builds a self-contained release into /opt/larsbot, creates the
# larsbot user, /etc/larsbot (config, roster; chmod 600) and /var/lib/larsbot (the SQLite file), and the unit.
# Idempotent: an existing config, roster or database is never overwritten. Run as root from the repository root:
#   sudo bash scripts/install.sh && sudoedit /etc/larsbot/larsbot.json && systemctl enable --now larsbot
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${LARSBOT_PREFIX:-/opt/larsbot}

id larsbot >/dev/null 2>&1 || useradd --system --home-dir /var/lib/larsbot --shell /usr/sbin/nologin larsbot
install -d -o larsbot -g larsbot -m 0750 /var/lib/larsbot
install -d -o root -g larsbot -m 0750 /etc/larsbot

echo "== building into $prefix"
dotnet publish src/Larsbot -c Release -o "$prefix" --nologo -v quiet
cp README.md "$prefix/"

if [ ! -f /etc/larsbot/roster.json ]; then
  install -o root -g larsbot -m 0640 roster.sample.json /etc/larsbot/roster.json
fi
if [ ! -f /etc/larsbot/larsbot.json ]; then
  cat > /etc/larsbot/larsbot.json <<'JSON'
{
  "Irc": { "Server": "irc.example.net", "Port": 6697, "Tls": true, "Channel": "#ops" },
  "Roster": { "Path": "/etc/larsbot/roster.json" },
  "Database": { "Path": "/var/lib/larsbot/larsbot.db" },
  "Intake": { "HttpUrl": "http://127.0.0.1:8080" },
  "Twilio": { "AccountSid": "", "AuthToken": "", "From": "" },
  "Pushover": { "AppToken": "" }
}
JSON
  chown root:larsbot /etc/larsbot/larsbot.json
  chmod 0640 /etc/larsbot/larsbot.json
fi
install -m 0644 scripts/systemd/larsbot.service /etc/systemd/system/larsbot.service
install -m 0755 scripts/lars-notify /usr/local/bin/lars-notify
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "== installed. Edit /etc/larsbot/larsbot.json, then: systemctl enable --now larsbot"
else
  echo "== installed (no systemd running here: start it with $prefix/larsbot run --config /etc/larsbot/larsbot.json)"
fi
