#!/usr/bin/env bash
# Copied from ../shared/irc/irc-up.sh (the team's tested InspIRCd + Atheme start script) so CI needs nothing outside
# this repository. Usage: irc-up.sh DIR (ports from IRC_PORT, IRC_TLS_PORT, IRC_LINK_PORT); stop with irc-down.sh DIR.
# Start InspIRCd 3 (+ Atheme for SASL) on loopback for tests. Usage: irc-up.sh DIR ; stop: irc-down.sh DIR
set -euo pipefail
D=${1:?dir}; PORT=${IRC_PORT:-26667}; TLSPORT=${IRC_TLS_PORT:-26697}; LINK=${IRC_LINK_PORT:-27000}
export DEBIAN_FRONTEND=noninteractive
command -v inspircd >/dev/null && command -v atheme-services >/dev/null || {
  apt-get update -qq && apt-get install -y -qq --no-install-recommends inspircd atheme-services openssl >/dev/null; }
mkdir -p "$D"; chmod 755 "$D"
[ -f "$D/key.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 2 -subj /CN=127.0.0.1 2>/dev/null
cat > "$D/inspircd.conf" <<CONF
<server name="irc.test.local" description="test" network="TestNet">
<admin name="t" nick="t" email="t@test.local">
<bind address="127.0.0.1" port="$PORT" type="clients">
<bind address="127.0.0.1" port="$TLSPORT" type="clients" ssl="tls">
<bind address="127.0.0.1" port="$LINK" type="servers">
<module name="ssl_gnutls">
<sslprofile name="tls" provider="gnutls" certfile="$D/cert.pem" keyfile="$D/key.pem" dhfile="" hash="sha256" requestclientcert="no">
<connect allow="*" timeout="20" pingfreq="120" recvq="10K" softsendq="10240" hardsendq="1M" threshold="10" commandrate="1000" fakelag="${IRC_FAKELAG:-yes}" localmax="100" globalmax="100" useident="no" resolvehostnames="no">
<pid file="$D/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="$D/inspircd.log">
<options defaultmodes="not">
<module name="cap"><module name="ircv3"><module name="ircv3_accounttag"><module name="ircv3_servertime">
<module name="ircv3_capnotify"><module name="ircv3_echomessage"><module name="ircv3_msgid"><module name="ircv3_batch">
<module name="namesx"><module name="uhnames"><module name="botmode"><module name="services_account">
<module name="sasl"><sasl target="services.test.local" requiressl="no">
<module name="spanningtree">
<link name="services.test.local" ipaddr="127.0.0.1" port="$LINK" allowmask="127.0.0.1" sendpass="linkpw" recvpass="linkpw">
<uline server="services.test.local" silent="yes">
CONF
cat > "$D/atheme.conf" <<CONF
loadmodule "modules/protocol/inspircd"; loadmodule "modules/backend/opensex"; loadmodule "modules/crypto/pbkdf2v2";
loadmodule "modules/nickserv/main"; loadmodule "modules/nickserv/register"; loadmodule "modules/nickserv/identify";
loadmodule "modules/saslserv/main"; loadmodule "modules/saslserv/plain";
serverinfo { name = "services.test.local"; desc = "Atheme"; numeric = "00A"; recontime = 1; netname = "TestNet";
  hidehostsuffix = "users.test"; adminname = "t"; adminemail = "t@test.local"; registeremail = "t@test.local";
  loglevel = { error; info; }; maxlogins = 5; maxusers = 5; mdlimit = 30; emaillimit = 10; emailtime = 300; auth = none; casemapping = rfc1459; };
uplink "irc.test.local" { host = "127.0.0.1"; password = "linkpw"; port = $LINK; };
nickserv { nick = "NickServ"; user = "NickServ"; host = "services.test.local"; real = "NickServ"; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.test.local"; real = "SaslServ"; };
general { flood_msgs = 0; flood_time = 10; commit_interval = 5; uplink_sendq_limit = 1048576; language = "en"; exempts { }; };
logfile "$D/atheme.log" { error; info; network; };
CONF
chown -R irc:irc "$D"
setpriv --reuid=irc --regid=irc --init-groups inspircd --config "$D/inspircd.conf" --nofork >"$D/inspircd.out" 2>&1 &
for i in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
setpriv --reuid=irc --regid=irc --init-groups atheme-services -n -c "$D/atheme.conf" -l "$D/atheme.log" -p "$D/atheme.pid" >"$D/atheme.out" 2>&1 &
for i in $(seq 1 200); do grep -q "finished synching" "$D/atheme.out" 2>/dev/null && break; sleep 0.05; done
grep -q "finished synching" "$D/atheme.out" || { echo "atheme did not link"; cat "$D/atheme.out" "$D/inspircd.out"; exit 1; }
echo "IRC up: plain 127.0.0.1:$PORT tls 127.0.0.1:$TLSPORT pids $(cat "$D/inspircd.pid") $(cat "$D/atheme.pid")"
