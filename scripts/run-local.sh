#!/usr/bin/env bash
# Runs Larsbot on embedded defaults: a local IRC server (ngircd, started here on 127.0.0.1), the sample roster,
# a SQLite file under .run/, and SMS/push printed to this console (no Twilio/Pushover credentials needed).
# Ctrl-C stops the bot and the IRC server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
irc_port=${LARSBOT_LOCAL_IRC_PORT:-16667}

if ! command -v ngircd >/dev/null 2>&1 && [ ! -x /usr/sbin/ngircd ]; then
  echo "== installing ngircd (Debian's IRC server) for the local demo"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends ngircd >/dev/null
  (systemctl stop ngircd || service ngircd stop || pkill -x ngircd) >/dev/null 2>&1 || true
fi
ngircd_bin=$(command -v ngircd || echo /usr/sbin/ngircd)

run="$root/.run"
mkdir -p "$run/ngircd"
chmod 0777 "$run/ngircd"   # ngircd drops to 'nobody' and must write its pid file here
cat > "$run/ngircd/ngircd.conf" <<CONF
[Global]
Name = irc.larsbot.local
Info = Larsbot local IRC server
Listen = 127.0.0.1
Ports = $irc_port
PidFile = $run/ngircd/ngircd.pid
[Limits]
MaxConnectionsIP = 0
MaxNickLength = 30
[Options]
DNS = no
Ident = no
PAM = no
CONF
"$ngircd_bin" -n -f "$run/ngircd/ngircd.conf" >"$run/ngircd/ngircd.log" 2>&1 &
ngircd_pid=$!
trap 'kill $ngircd_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$irc_port) 2>/dev/null && break
  sleep 0.1
done

export LARSBOT_Irc__Server=127.0.0.1 LARSBOT_Irc__Port=$irc_port
export LARSBOT_Roster__Path=${LARSBOT_Roster__Path:-$root/roster.sample.json}
export LARSBOT_Database__Path=${LARSBOT_Database__Path:-$run/larsbot.db}
http=${LARSBOT_Intake__HttpUrl:-http://127.0.0.1:8080}
tcp=${LARSBOT_Intake__TcpPort:-7777}

cat <<TXT

  Larsbot is starting on embedded defaults.
  IRC:    ngircd on 127.0.0.1:$irc_port, channel #ops, bot nick Lars_Botlesen
          join as a roster person:  irssi -c 127.0.0.1 -p $irc_port -n brong   then  /join #ops
          (or weechat: /server add local 127.0.0.1/$irc_port; /connect local; /nick brong; /join #ops)
  Try:    curl -d host=gateway2 -d level=urgent --data-urlencode 'message=rblcheck: listed' $http/alerts
          echo 'urgent db1 replication stopped' | nc -q1 127.0.0.1 $tcp
          then say 'lars ack' in #ops within 30 s, or watch the SMS/push printed below.
  Health: curl $http/health
  Data:   $LARSBOT_Database__Path     Roster: $LARSBOT_Roster__Path

TXT
dotnet run --project src/Larsbot -c Release -- run "$@"
