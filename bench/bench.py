#!/usr/bin/env python3
"""Larsbot benchmark harness: side by side with Debian's prometheus-alertmanager, on loopback only.

Run through bench/run.sh (it installs wrk, prometheus-alertmanager, ngircd and postgresql-15, and builds). Measures:
  1. HTTP intake, one alert per request, c=1/16/64: Larsbot (durable: 202 after commit; crash-safe default and
     power-safe Database:Synchronous=FULL) against Alertmanager's POST /api/v2/alerts (in memory): req/s, p50, p99.
  2. Memory (RSS): idle, peak under load, and after load with many stored alerts, for both.
  3. Time from process start to the first accepted alert (Larsbot).
  4. POST -> URGENT line seen by another client through the real IRC server: p50/p99 over N alerts.
  5. How far countdown lines and pages fall from their due times (p50/p99/max).
  6. With --postgres: 1's info intake and the irc/urgent engine path again with the bot on PostgreSQL 15 instead of
     SQLite (Database:Provider=postgres, a throw-away server at PostgreSQL's default durability), against the same
     Alertmanager in the same run: about 2 minutes per level at the defaults (warm-up 2x10 s, then 3 concurrencies x
     3 rounds x 2 sides x 5 s). --postgres-only runs just those rows (info,irc: about 4 minutes), printed, docs untouched:
       python3 bench/bench.py --postgres-only [info,irc,urgent] --native out/native/larsbot
Writes docs/benchmarks.md. Every process it starts is stopped at the end (also on Ctrl+C, errors and SIGTERM), and the
PostgreSQL server's folder removed.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request
from harness import Postgres, free_port, provider_stub, rss_mib, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/Larsbot/bin/Release/net10.0/larsbot.dll")
ap = argparse.ArgumentParser()
ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
ap.add_argument("--rounds", type=int, default=3, help="alternating runs per concurrency (the median is reported)")
ap.add_argument("--latency-samples", type=int, default=1000)
# ngircd paces one client to about 3 lines/s: 0.34 s apart sat right at that limit, 0.4 s leaves headroom.
ap.add_argument("--latency-spacing", type=float, default=0.4, help="seconds between IRC latency samples")
ap.add_argument("--countdowns", type=int, default=8)
ap.add_argument("--out", default=os.path.join(ROOT, "docs/benchmarks.md"))
ap.add_argument("--intake-only", action="store_true", help="only the c=1/16/64 intake runs, printed, docs untouched")
ap.add_argument("--timing-only", action="store_true", help="only the IRC latency and countdown timing, printed, docs untouched")
ap.add_argument("--level", default="info", help="level of the intake alerts (info: recorded only, as Alertmanager's)")
ap.add_argument("--engine-only", default="", help="only the engine-path rows for these levels (irc,urgent), printed, docs untouched")
ap.add_argument("--native", default="", help="run this Native AOT executable (scripts/publish.sh) instead of larsbot.dll")
ap.add_argument("--warmup", type=int, default=10, help="seconds of untimed load at c=16 on each server before its rows")
ap.add_argument("--postgres", action="store_true", help="the full run adds the PostgreSQL rows (info, irc, urgent; bench/run.sh sets it)")
ap.add_argument("--postgres-only", nargs="?", const="info,irc", default="", metavar="LEVELS",
                help="only the PostgreSQL rows for these levels (info,irc,urgent; default info,irc), printed, docs untouched")
args = ap.parse_args()
PG_LEVELS = ("info", "irc", "urgent")
for level in args.postgres_only.split(",") if args.postgres_only else ():
    if level not in PG_LEVELS: ap.error(f"--postgres-only: {level!r} is not one of {','.join(PG_LEVELS)}")
# SIGTERM ends the run as Ctrl+C does: through the finally below, which stops everything and removes the folders.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
work = tempfile.mkdtemp(prefix="larsbot-bench-")
procs = []
pg = None  # the PostgreSQL server, while one runs


def start(cmd, env=None, log="proc.log"):
    p = subprocess.Popen(cmd, env=env, stdout=open(os.path.join(work, log), "w"), stderr=subprocess.STDOUT, cwd=work)
    procs.append(p)
    return p


def wait_http(url, timeout=30, ok=(200, 503)):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status in ok: return
        except urllib.error.HTTPError as e:
            if e.code in ok: return
        except Exception: pass
        time.sleep(0.05)
    raise TimeoutError(url)


def post_form(base, host, level, message):
    body = f"host={host}&level={level}&message={urllib.parse.quote(message)}".encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/alerts", data=body), timeout=10) as r:
        return r.status


import urllib.parse

# ---- a Twilio/Pushover stand-in that records when each page arrived ----
pages = []
stub, stub_url = provider_stub(lambda t, path, fields: pages.append((t, path, fields)))

# ---- servers ----
irc_port = free_port()
os.makedirs(os.path.join(work, "ngircd"), exist_ok=True); os.chmod(os.path.join(work, "ngircd"), 0o777)
with open(os.path.join(work, "ngircd/ngircd.conf"), "w") as f:
    f.write(f"[Global]\nName = irc.bench\nInfo = bench\nListen = 127.0.0.1\nPorts = {irc_port}\nPidFile = {work}/ngircd/pid\n"
            "[Limits]\nMaxConnectionsIP = 0\nMaxNickLength = 30\n[Options]\nDNS = no\nIdent = no\nPAM = no\n")
start([shutil.which("ngircd") or "/usr/sbin/ngircd", "-n", "-f", f"{work}/ngircd/ngircd.conf"], log="ngircd.log")


def bot_env(http_port, db, extra=None):
    env = dict(os.environ)
    env.update({
        "LARSBOT_Irc__Server": "127.0.0.1", "LARSBOT_Irc__Port": str(irc_port),
        "LARSBOT_Intake__HttpUrl": f"http://127.0.0.1:{http_port}", "LARSBOT_Intake__TcpPort": "-1",
        # The comparison is of intake, not of our per-host flood limit: lift it as Alertmanager has none.
        "LARSBOT_Intake__PerHostBurst": "100000000", "LARSBOT_Intake__PerHostPerMinute": "100000000",
        "LARSBOT_Intake__PerCallerBurst": "100000000", "LARSBOT_Intake__PerCallerPerMinute": "100000000",
        "LARSBOT_Roster__Path": os.path.join(ROOT, "roster.sample.json"), "LARSBOT_Database__Path": db,
        "LARSBOT_Twilio__AccountSid": "AC" + "0" * 32, "LARSBOT_Twilio__AuthToken": "t" * 32,
        "LARSBOT_Twilio__From": "+15005550006", "LARSBOT_Twilio__BaseUrl": stub_url,
        "LARSBOT_Pushover__AppToken": "a" * 30, "LARSBOT_Pushover__BaseUrl": stub_url,
        "LARSBOT_Logging__LogLevel__Default": "Warning", "LARSBOT_Ledger__ReportFolder": os.path.join(work, "reports"),
    })
    env.update(extra or {})
    return env


def start_bot(name, extra=None):
    port = free_port()
    t0 = time.monotonic()
    p = start([args.native, "run"] if args.native else ["dotnet", DLL, "run"], env=bot_env(port, os.path.join(work, name + ".db"), extra), log=name + ".log")
    base = f"http://127.0.0.1:{port}"
    # Time to first accepted alert: poll POST until it answers 202.
    while True:
        try:
            if post_form(base, "boot", "info", "first") == 202: break
        except Exception: pass
        if time.monotonic() - t0 > 60: raise TimeoutError("bot did not start")
        time.sleep(0.01)
    return p, base, time.monotonic() - t0


def start_alertmanager():
    port = free_port()
    d = os.path.join(work, "am"); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "am.yml"), "w") as f:
        f.write("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n")
    p = start(["prometheus-alertmanager", f"--config.file={d}/am.yml", f"--storage.path={d}",
               f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="], log="am.log")
    wait_http(f"http://127.0.0.1:{port}/-/ready", ok=(200,))
    return p, f"http://127.0.0.1:{port}"


LUA_LARS = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/alerts", {["Content-Type"] = "application/x-www-form-urlencoded"},
    "host=host" .. (counter % 500) .. "&level=LEVEL&message=link+down+" .. id .. "-" .. counter)
end
"""
LUA_AM = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v2/alerts", {["Content-Type"] = "application/json"},
    '[{"labels":{"alertname":"LinkDown","instance":"host' .. (counter % 500) .. '","n":"' .. id .. '-' .. counter .. '"},"annotations":{"summary":"link down ' .. counter .. '"}}]')
end
"""
# The engine path (issue 16): both sides get the same JSON alert, Alertmanager's own shape, with a severity label that
# Larsbot's Alertmanager door maps to a level (warning: irc, critical: urgent). Larsbot's webhook door wants it inside
# {"alerts": [...]}, 12 bytes more; every alert has a new identity (the n label), so each is new to both.
JSON_ALERT = """'{"labels":{"alertname":"LinkDown","instance":"host' .. (counter % 500) .. '","n":"' .. id .. '-' .. counter .. '","severity":"SEV"},"annotations":{"summary":"link down ' .. counter .. '"}}'"""
LUA_JSON_LARS = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/alertmanager", {["Content-Type"] = "application/json"}, '{"alerts":[' .. ALERT .. ']}')
end
"""
LUA_JSON_AM = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v2/alerts", {["Content-Type"] = "application/json"}, '[' .. ALERT .. ']')
end
"""
scripts = [("lars.lua", LUA_LARS.replace("LEVEL", args.level)), ("lars-info.lua", LUA_LARS.replace("LEVEL", "info")), ("am.lua", LUA_AM)]
for sev in ("warning", "critical"):
    scripts += [(f"lars-{sev}.lua", LUA_JSON_LARS.replace("ALERT", JSON_ALERT.replace("SEV", sev))),
                (f"am-{sev}.lua", LUA_JSON_AM.replace("ALERT", JSON_ALERT.replace("SEV", sev)))]
# Every alert is new to both sides for the whole run: each wrk thread counts from 1 in every run, so the identity
# also carries the run's start second and the thread's number (set in wrk's setup()). Without them the second
# thread repeated the first one's alerts and every round after the warm-up repeated the warm-up's: Larsbot counted
# repeats up and Alertmanager updated alerts it already held, instead of taking new ones.
LUA_RUN_ID = """
local threads, run = 0, tostring(os.time())
setup = function(thread)
  threads = threads + 1
  thread:set("id", run .. "-" .. threads)
end
"""
for name, lua in scripts:
    with open(os.path.join(work, name), "w") as f: f.write(LUA_RUN_ID + lua)


def disk_commits_per_second(seconds=3.0):
    """The disk's own limit for power-safe single-row commits: SQLite in WAL with synchronous=FULL, one INSERT per
    COMMIT, on the file system the bot's database lives on."""
    import sqlite3
    path = os.path.join(work, "fsync-probe.db")
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=FULL")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO t(v) VALUES ('x')"); c.execute("COMMIT"); n += 1
    c.close()
    return n / seconds


def alternate(pairs, c, pause=True):
    """Rounds alternating between the sides named in pairs ({side: (base, lua, pid)}), medians per side. With pause, the
    sides not being measured are paused (SIGSTOP) for the round and let go after it, so each side's background work (a GC of the
    alerts it keeps, a checkpoint, an engine catching up) lands in its own rounds, not in the other side's: without
    this, Alertmanager's garbage collector (its heap grows with every alert it keeps) took 4-5 s of CPU during the
    bot's 5-second rounds in a probe, and the bot's `urgent` rounds at c=64 fell from 12,700 to 6,100-7,400 while
    Alertmanager was not being sent anything (docs/performance-notes.md, the eleventh session)."""
    runs = {side: [] for side in pairs}
    for _ in range(args.rounds):
        for side, (base, lua, pid) in pairs.items():
            others = [p for s, (_, _, p) in pairs.items() if s != side and pause]
            for p in others: os.kill(p, signal.SIGSTOP)
            try:
                runs[side].append(wrk(base, lua, c, pid))
            finally:
                for p in others: os.kill(p, signal.SIGCONT)
    out = {}
    for side, rs in runs.items():
        out[side] = {k: statistics.median(r[k] for r in rs) if k != "non2xx" else sum(r[k] for r in rs) for k in rs[0]}
        out[side]["peak"] = max(r["peak"] for r in rs)
        out[side]["all"] = [round(r["rps"]) for r in rs]
    return out


def ms(v):
    v = v.strip()
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n = float(m.group(1)); return n / 1000 if m.group(2) == "us" else n * 1000 if m.group(2) == "s" else n


def wrk(base, lua, c, pid, seconds=None):
    peak = [rss_mib(pid)]; done = threading.Event()
    def sample():
        while not done.is_set(): peak.append(rss_mib(pid)); time.sleep(0.2)
    threading.Thread(target=sample, daemon=True).start()
    out = subprocess.run(["wrk", f"-t{min(c, 2)}", f"-c{c}", f"-d{seconds or args.duration}s", "--latency", "-s", os.path.join(work, lua), base],
                         capture_output=True, text=True).stdout
    done.set()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1)); p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0, "peak": max(peak)}


results = {}


def engine_rows(level):
    """The engine path for one level: a fresh bot and a fresh Alertmanager (each keeps every alert it is sent, and
    every alert is new), both warmed up, then alternating rounds at c=1/16/64."""
    sev = {"irc": "warning", "urgent": "critical"}[level]
    am, am_base = start_alertmanager()
    bot, bot_base, _ = start_bot(f"engine-{level}")
    wrk(am_base, f"am-{sev}.lua", 16, am.pid, seconds=args.warmup); wrk(bot_base, f"lars-{sev}.lua", 16, bot.pid, seconds=args.warmup)
    for c in (1, 16, 64):
        o = alternate({"am": (am_base, f"am-{sev}.lua", am.pid), "lars": (bot_base, f"lars-{sev}.lua", bot.pid)}, c)
        results[f"{level}{c}"], results[f"{level}am{c}"] = o["lars"], o["am"]
        print(f"{level} c={c}: ratio {o['lars']['rps'] / o['am']['rps']:.2f}x  p99 ratio {o['lars']['p99'] / o['am']['p99']:.2f}x"
              f"  larsbot {o['lars']}  alertmanager {o['am']}", flush=True)
    stop(bot); stop(am)


def wait_leader(base, timeout=60):
    """Until /health says "role": "leader" (on PostgreSQL the instance first wins the lease, then runs the engine)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as r: body = r.read()
        except urllib.error.HTTPError as e: body = e.read()  # 503 until IRC and the engine are up: the role is there
        except Exception: body = b"{}"
        try:
            if json.loads(body).get("role") == "leader": return
        except ValueError: pass
        time.sleep(0.05)
    raise TimeoutError("the bot did not become leader")


def bot_log_lines(name, skip=("Leading now as",)):
    """The bot's log (Warning and up) as distinct lines with counts, but the one that says it won the lease."""
    counts = {}
    with open(os.path.join(work, name + ".log"), errors="replace") as f:
        for line in f:
            line = re.sub(r"\d+", "N", line.strip())  # numbers vary; the kinds of lines are what matter
            if line and not any(k in line for k in skip): counts[line] = counts.get(line, 0) + 1
    return counts


def pg_rows(level):
    """The same rows on PostgreSQL for one level (info: the intake rows' form POST; irc/urgent: the engine path's JSON):
    a fresh database and a fresh bot (Database:Provider=postgres, every other setting as the SQLite rows), leader before
    any load, and a fresh Alertmanager; both warmed up, then alternating rounds at c=1/16/64."""
    sev = {"info": None, "irc": "warning", "urgent": "critical"}[level]
    am, am_base = start_alertmanager()
    lars_lua, am_lua = ("lars-info.lua", "am.lua") if sev is None else (f"lars-{sev}.lua", f"am-{sev}.lua")
    name = f"pg-{level}"
    conn = pg.create_database(f"larsbot_{level}")
    t0 = time.monotonic()
    bot, bot_base, boot = start_bot(name, {"LARSBOT_Database__Provider": "postgres", "LARSBOT_Database__ConnectionString": conn})
    wait_leader(bot_base)
    results[f"pg{level}lead"] = time.monotonic() - t0
    results[f"pg{level}boot"] = boot
    print(f"postgres {level}: first 202 after {boot * 1000:.0f} ms, leader after {results[f'pg{level}lead'] * 1000:.0f} ms", flush=True)
    wrk(am_base, am_lua, 16, am.pid, seconds=args.warmup); wrk(bot_base, lars_lua, 16, bot.pid, seconds=args.warmup)
    for c in (1, 16, 64):
        # Not paused: a bot on PostgreSQL paused for a round would find its 5-second leadership lease run out when let go.
        o = alternate({"am": (am_base, am_lua, am.pid), "pg": (bot_base, lars_lua, bot.pid)}, c, pause=False)
        results[f"pg{level}{c}"], results[f"pg{level}am{c}"] = o["pg"], o["am"]
        print(f"postgres {level} c={c}: ratio {o['pg']['rps'] / o['am']['rps']:.2f}x  p99 ratio {o['pg']['p99'] / o['am']['p99']:.2f}x"
              f"  larsbot {o['pg']}  alertmanager {o['am']}", flush=True)
    results[f"pg{level}stored"] = int(pg.psql("SELECT COUNT(*) FROM alerts", f"larsbot_{level}"))
    results[f"pg{level}conns"] = int(pg.psql(f"SELECT COUNT(*) FROM pg_stat_activity WHERE datname = 'larsbot_{level}' AND application_name = 'larsbot'"))
    stop(bot); stop(am)
    results[f"pg{level}log"] = log = bot_log_lines(name)
    print(f"postgres {level}: {results[f'pg{level}stored']:,} alerts stored, {results[f'pg{level}conns']} connections held; the bot's log (Warning and up, but the lease won): "
          + ("nothing" if not log else "".join(f"\n  {n}x {l}" for l, n in sorted(log.items(), key=lambda x: -x[1])[:20])), flush=True)


PG_ABOUT = """The same rows with the bot on PostgreSQL 15 instead of SQLite: the `info` intake rows' form POST (stored,
never handled by the engine) and the engine path's `irc` and `urgent` JSON alerts, at c=1/16/64, each against a fresh
Alertmanager, alternating rounds (neither side paused during the other's), medians (`python3 bench/bench.py --postgres-only` runs just these).
Each level gets a fresh database (`CREATE DATABASE`) and a fresh bot with `Database:Provider=postgres` and every other
setting as the SQLite rows, and a fresh Alertmanager (it keeps every alert in memory, and every alert is new); the
load starts once `/health` says `"role": "leader"` (a single instance wins the lease within about a second), and both
sides are warmed up at c=16 first.

The server is a throw-away Debian PostgreSQL 15 cluster that the harness starts for the run (`bench/harness.py`:
initdb, the server run as the OS user postgres, listening on 127.0.0.1 on a free port only, its data on the same
machine and file system as the SQLite rows) at PostgreSQL's default durability: fsync=on, synchronous_commit=on,
full_page_writes=on, so every 202 follows a commit flushed to disk. That is the honest comparison for a database
server, and it is stricter than the SQLite rows' default (synchronous=NORMAL: survives kill -9, not power loss); the
power-safe FULL figures above are SQLite's equal. No performance setting is changed (shared_buffers 128 MB,
max_connections 100: the bot holds a few connections, listed with the figures); the only settings given are where to listen
(`listen_addresses=127.0.0.1`, the port, `unix_socket_directories` in the temp folder) and `lc_messages=C`.
`initdb --no-sync` only skips flushing initdb's own files.

One instance: this is one leader and its database. A standby would not change the intake path: an alert it takes is
the same write under the same advisory lock, plus one NOTIFY at each of its commits to wake the leader; the
leader's own intake sends none. The PostgreSQL server shares the two cores with the bot, wrk and Alertmanager, and is
reached over loopback; on a separate database host every statement would add a network round trip."""


# Kept in the template so that every run's report carries it (it used to be added by hand after each run).
PG_READING = """Reading these rows:
- **Durability differs.** PostgreSQL at its defaults flushes the WAL to disk at every commit, like SQLite's
  `Synchronous=FULL` (the power-safe rows above), not the `NORMAL` of the SQLite rows beside it. Its `info` rows are to
  be read against the power-safe ones.
- **The engine path is slow per alert on PostgreSQL.** An engine pass is 16 to 20 statements in one write
  transaction: the write lock, the lease check, about ten small reads, the updates and the outbox row. Each is a round
  trip to the server. That is almost free in-process on SQLite, but here it holds the single writer while intake
  commits wait. Batching a pass's statements into fewer round trips is the next step; it is not done yet.
- **One instance.** A standby adds one `NOTIFY` to each commit it takes; the leader's path is unchanged."""


def pg_server():
    """The throw-away server (bench/harness.py) at PostgreSQL's defaults; its settings as the report states them."""
    global pg
    pg = Postgres()
    results["pgsettings"] = {k: pg.setting(k) for k in ("server_version", "fsync", "synchronous_commit", "full_page_writes",
                                                        "wal_sync_method", "shared_buffers", "max_connections")}
    print("postgres:", ", ".join(f"{k}={v}" for k, v in results["pgsettings"].items()), flush=True)


try:
    if args.postgres_only:
        pg_server()
        for level in args.postgres_only.split(","): pg_rows(level)
        raise SystemExit(0)
    if args.engine_only:
        for level in args.engine_only.split(","): engine_rows(level)
        raise SystemExit(0)
    if not args.timing_only:
        # ---- 1-3: intake side by side, memory, start time ----
        am, am_base = start_alertmanager()
        bot, bot_base, boot = start_bot("lars")
        boots = [boot]
        for i in range(2):
            p, _, b = start_bot(f"boot{i}"); boots.append(b); stop(p)
        results["boot"] = statistics.median(boots)
        time.sleep(1)
        results["idle"] = {"lars": rss_mib(bot.pid), "am": rss_mib(am.pid)}
        # Warm both up first (untimed): .NET compiles its hot paths in tiers during the first seconds; Go does not need to.
        wrk(am_base, "am.lua", 16, am.pid, seconds=args.warmup); wrk(bot_base, "lars.lua", 16, bot.pid, seconds=args.warmup)
        for c in (1, 16, 64):
            # Alternating rounds, median of each: the two cores are shared (with wrk, and with whatever else the host
            # runs), and a single run of either side can land on a noisy second.
            o = alternate({"am": (am_base, "am.lua", am.pid), "lars": (bot_base, "lars.lua", bot.pid)}, c)
            results[f"am{c}"], results[f"lars{c}"] = o["am"], o["lars"]
            print(f"c={c}: larsbot {results[f'lars{c}']}  alertmanager {results[f'am{c}']}", flush=True)
        if args.intake_only:
            for c in (1, 16, 64):
                print(f"c={c}: ratio {results[f'lars{c}']['rps'] / results[f'am{c}']['rps']:.2f}x  p99 ratio {results[f'lars{c}']['p99'] / results[f'am{c}']['p99']:.2f}x")
            raise SystemExit(0)
        with urllib.request.urlopen(bot_base + "/health") as r: pass
        import sqlite3
        stored = sqlite3.connect(os.path.join(work, "lars.db")).execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        results["after"] = {"lars": rss_mib(bot.pid), "am": rss_mib(am.pid), "stored": stored}
        # Not growing with stored alerts: another full c=64 run doubles the rows; compare RSS after each.
        results["lars64b"] = wrk(bot_base, "lars.lua", 64, bot.pid)
        stored2 = sqlite3.connect(os.path.join(work, "lars.db")).execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        results["after2"] = {"lars": rss_mib(bot.pid), "stored": stored2}
        stop(bot)

        # Power-safe: fsync before every 202, beside the disk's own rate for single-row fsynced commits, and alternating
        # with Alertmanager like the rows above.
        results["disk"] = disk_commits_per_second()
        # A fresh Alertmanager beside the fresh bot: it keeps every alert in memory, and every alert is new.
        stop(am); am, am_base = start_alertmanager()
        bot, bot_base, _ = start_bot("full", {"LARSBOT_Database__Synchronous": "FULL"})
        wrk(am_base, "am.lua", 16, am.pid, seconds=args.warmup); wrk(bot_base, "lars.lua", 16, bot.pid, seconds=args.warmup)
        for c in (1, 16, 64):
            o = alternate({"am": (am_base, "am.lua", am.pid), "full": (bot_base, "lars.lua", bot.pid)}, c)
            results[f"full{c}"], results[f"fullam{c}"] = o["full"], o["am"]
            print(f"c={c}: larsbot FULL {o['full']}  alertmanager {o['am']}", flush=True)
        stop(bot)
        print(f"disk: {results['disk']:,.0f} single-row fsynced commits/s", flush=True)

        # The engine path: every alert through the paging engine, JSON on both sides. warning (irc): checked for a
        # repeat, handled, announced (in storm summaries at this rate); critical (urgent): the same, and each joins
        # the open countdown, which pages on time (the providers are the stub).
        stop(am)
        for level in ("irc", "urgent"): engine_rows(level)

        # The same intake and engine-path rows with the bot on PostgreSQL, each level against a fresh Alertmanager.
        if args.postgres:
            pg_server()
            for level in PG_LEVELS: pg_rows(level)
            pg.stop(); pg = None

    # ---- 4-5: IRC latency and timing accuracy ----
    bot, bot_base, _ = start_bot("irc", {
        "LARSBOT_Irc__FloodBurst": "4", "LARSBOT_Irc__FloodInterval": "00:00:00.340",
        "LARSBOT_Paging__Countdown": "00:00:03", "LARSBOT_Paging__TickEvery": "00:00:00.500",
        "LARSBOT_Paging__EscalateAfter": "00:00:02", "LARSBOT_Paging__AckModeFor": "01:00:00",
        "LARSBOT_Paging__StormThreshold": "1000"})
    wait_http(bot_base + "/health", ok=(200,))
    sock = socket.create_connection(("127.0.0.1", irc_port)); lines = []; cv = threading.Condition()
    def reader():
        buf = b""
        while True:
            data = sock.recv(65536)
            if not data: return
            buf += data
            while b"\r\n" in buf:
                raw, buf = buf.split(b"\r\n", 1); l = raw.decode("utf-8", "replace")
                if l.startswith("PING"): sock.sendall(("PONG" + l[4:] + "\r\n").encode())
                with cv: lines.append((time.monotonic(), l)); cv.notify_all()
    threading.Thread(target=reader, daemon=True).start()
    def send(s): sock.sendall((s + "\r\n").encode())
    def wait_for(pred, after, timeout=30):
        end = time.monotonic() + timeout
        with cv:
            while True:
                for i in range(after, len(lines)):
                    if pred(lines[i][1]): return i
                if not cv.wait(max(0.0, end - time.monotonic())): raise TimeoutError("line not seen")
    send("NICK brong"); send("USER brong 0 * :b"); wait_for(lambda l: " 001 " in l, 0)
    send("JOIN #ops"); wait_for(lambda l: " 366 " in l, 0)
    send("PRIVMSG #ops :lars duty take"); wait_for(lambda l: "is now on duty" in l, 0)
    # The duty change also changes the topic. ngircd paces what one client sends (about 3 lines/s, see
    # ../shared/irc/README.md): a countdown started right behind that burst had its first line held ~500 ms by the
    # server, which is not the bot's timing. Start measuring once the channel is quiet.
    wait_for(lambda l: " TOPIC #ops :" in l and "brong" in l.lower(), 0); time.sleep(1.5)
    # Timing: countdowns with a line every 0.5 s, the first page at 3 s, everybody at 5 s. Nobody acks: once an
    # everybody-page is EscalateAfter old, the next alert starts a fresh countdown.
    line_err, page_err, late_lines = [], [], []
    for k in range(args.countdowns):
        mark = len(lines); pmark = len(pages); t0 = time.monotonic()
        post_form(bot_base, f"cd{k}", "urgent", "timing probe")
        for left in ("2.5", "2", "1.5", "1", "0.5"):
            i = wait_for(lambda l, left=left, k=k: f"in {left} secs to" in l and f"cd{k}:" in l, mark)
            line_err.append((lines[i][0] - (t0 + 3 - float(left))) * 1000); mark = i + 1
            if line_err[-1] > 100: late_lines.append((line_err[-1], lines[i][1]))
        end = time.monotonic() + 30
        while len(pages) < pmark + 7 and time.monotonic() < end: time.sleep(0.005)
        page_err.append((min(p[0] for p in pages[pmark:pmark + 2]) - (t0 + 3)) * 1000)
        page_err.append((min(p[0] for p in pages[pmark + 2:pmark + 7]) - (t0 + 5)) * 1000)
        # An urgent alert within EscalateAfter (2 s here) of an everybody-page nobody acked joins it: wait that out,
        # so the next probe starts a countdown of its own.
        time.sleep(2.5)
    results["line_err"] = line_err; results["page_err"] = page_err
    # Latency: in ack mode (long here) every urgent alert is announced at once with no countdown, one line per POST.
    mark = len(lines); send("PRIVMSG #ops :lars ack"); wait_for(lambda l: ":ack: " in l, mark)
    time.sleep(1.5)
    lat, slow_samples = [], []
    for n in range(args.latency_samples):
        mark = len(lines); t = time.monotonic()
        post_form(bot_base, f"lat{n}", "urgent", "latency probe")
        j = wait_for(lambda l, n=n: f":URGENT lat{n} - " in l, mark)
        lat.append((lines[j][0] - t) * 1000)
        if lat[-1] > 100: slow_samples.append((n, lat[-1], [l for tt, l in lines if t - 3 <= tt <= lines[j][0]]))
        time.sleep(args.latency_spacing)
    results["irc_latency"] = lat
    send("QUIT :done"); stop(bot)
    if args.timing_only:
        for name in ("line_err", "page_err", "irc_latency"):
            v = sorted(results[name]); print(f"{name}: p50 {v[len(v) // 2]:.1f} max {v[-1]:.1f} ms")
        for t, l in late_lines: print(f"late {t:.0f} ms: {l}")
        for n, ms_, around in slow_samples: print(f"slow sample {n}: {ms_:.0f} ms; lines in the 3 s before it:", *around, sep="\n  ")
        raise SystemExit(0)
finally:
    for p in procs: stop(p)
    if pg is not None: pg.stop()
    stub.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def pct(v, q): v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))]


def pg_section():
    """The PostgreSQL section of docs/benchmarks.md: what the rows are, the server's settings, and the rows (--postgres)."""
    out = f"""
## PostgreSQL instead of SQLite (`Database:Provider=postgres`)

{PG_ABOUT}
"""
    if not args.postgres:
        return out + "\nNot measured in this run (bench/bench.py without `--postgres`; bench/run.sh sets it).\n"
    st = r["pgsettings"]
    sqlite_ratio = lambda level, c: (r[f"lars{c}"]["rps"] / r[f"am{c}"]["rps"] if level == "info"
                                     else r[f"{level}{c}"]["rps"] / r[f"{level}am{c}"]["rps"])
    def pgrow(level, c):
        x, a = r[f"pg{level}{c}"], r[f"pg{level}am{c}"]
        return (f"| {level} | {c} | {x['rps']:,.0f} | {x['p50']:.2f} | {x['p99']:.2f} | {a['rps']:,.0f} | {a['p99']:.2f} | "
                f"**{x['rps'] / a['rps']:.2f}×** | {x['p99'] / a['p99']:.2f}× | {sqlite_ratio(level, c):.2f}× |")
    logs = {level: r[f"pg{level}log"] for level in PG_LEVELS}
    return out + f"""
Server: PostgreSQL {st['server_version']}, fsync={st['fsync']}, synchronous_commit={st['synchronous_commit']},
full_page_writes={st['full_page_writes']}, wal_sync_method={st['wal_sync_method']}, shared_buffers={st['shared_buffers']},
max_connections={st['max_connections']} (all PostgreSQL's defaults).

| level | concurrency | Larsbot on PostgreSQL req/s | p50 ms | p99 ms | Alertmanager req/s | p99 ms | throughput ratio | p99 ratio | on SQLite (ratio, rows above) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(pgrow(level, c) for level in PG_LEVELS for c in (1, 16, 64))}

{PG_READING}

Every round, req/s: {'; '.join(f"{level} c={c} Larsbot {', '.join(f'{v:,}' for v in r[f'pg{level}{c}']['all'])} / Alertmanager {', '.join(f'{v:,}' for v in r[f'pg{level}am{c}']['all'])}" for level in PG_LEVELS for c in (1, 16, 64))}.
Start to first 202 and to leader: {'; '.join(f"{level} {r[f'pg{level}boot'] * 1000:.0f} ms, {r[f'pg{level}lead'] * 1000:.0f} ms" for level in PG_LEVELS)}.
Alerts stored at the end: {', '.join(f"{level} {r[f'pg{level}stored']:,}" for level in PG_LEVELS)}; connections the bot held:
{', '.join(f"{level} {r[f'pg{level}conns']}" for level in PG_LEVELS)}. Non-2xx answers: Larsbot
{sum(r[f'pg{level}{c}']['non2xx'] for level in PG_LEVELS for c in (1, 16, 64))}, Alertmanager
{sum(r[f'pg{level}am{c}']['non2xx'] for level in PG_LEVELS for c in (1, 16, 64))}. The bot's log (Warning and up, less
the line that it won the lease): {'; '.join(f"{level}: " + (', '.join(f"{n}× `{l[:160]}`" for l, n in sorted(v.items(), key=lambda x: -x[1])[:5]) or "nothing") for level, v in logs.items())}.
"""


r = results
_v = subprocess.run(["prometheus-alertmanager", "--version"], capture_output=True, text=True)
AM_VERSION = (re.search(r"version (\S+)", _v.stdout + _v.stderr) or re.search("(.*)", "?")).group(1)
erow = lambda level, c: (f"| {level} | {c} | {r[f'{level}{c}']['rps']:,.0f} | {r[f'{level}{c}']['p99']:.2f} | "
                        f"{r[f'{level}am{c}']['rps']:,.0f} | {r[f'{level}am{c}']['p99']:.2f} | "
                        f"**{r[f'{level}{c}']['rps'] / r[f'{level}am{c}']['rps']:.2f}×** | {r[f'{level}{c}']['p99'] / r[f'{level}am{c}']['p99']:.2f}× |")
row = lambda c: (f"| {c} | {r[f'lars{c}']['rps']:,.0f} | {r[f'lars{c}']['p50']:.2f} | {r[f'lars{c}']['p99']:.2f} | "
                 f"{r[f'am{c}']['rps']:,.0f} | {r[f'am{c}']['p50']:.2f} | {r[f'am{c}']['p99']:.2f} | "
                 f"**{r[f'lars{c}']['rps'] / r[f'am{c}']['rps']:.2f}×** | {r[f'lars{c}']['p99'] / r[f'am{c}']['p99']:.2f}× |")
BUILD = ("its deployed form, the Native AOT executable from `scripts/publish.sh`" if args.native
         else "its Release build on the JIT (`dotnet larsbot.dll`)")
md = f"""# Benchmarks

Measured by `bash bench/run.sh` on {time.strftime('%Y-%m-%d')} on this project's machine type (2 cores, shared by
wrk, the servers and the harness; loopback only). Every figure in a row comes from the same run; ratios are
Larsbot ÷ Alertmanager. Larsbot runs {BUILD}, with the default crash-safe storage (SQLite WAL,
synchronous=NORMAL: a 202 survives kill -9) unless the row says FULL (fsync before every 202: survives power loss).
Alertmanager is Debian's prometheus-alertmanager {AM_VERSION},
`POST /api/v2/alerts`, in memory. One alert per request (`level=info` for Larsbot: stored, never said or paged, as
Alertmanager only stores them with a null receiver), wrk with 500 rotating hosts and a new text in every alert. Both servers are warmed up for {args.warmup} s at
c=16 first (on the JIT, .NET compiles its hot paths in tiers; Go does not need to), then each concurrency runs {args.rounds}
alternating rounds of {args.duration} s per server; the table gives the medians, and every round is listed below it.
While one server's round runs, the other is paused (SIGSTOP, let go with SIGCONT when the round ends), so each server's
background work (Alertmanager's garbage collector over the alerts it keeps, the bot's checkpoints and engine) lands in
its own rounds, not in the other's; the PostgreSQL rows alone are not paused (a paused bot would lose its 5-second
leadership lease).

## The paging engine's path: every alert through the engine (the headline)

Both sides get the same JSON alert, Alertmanager's own shape, one per request, a new identity in each (500 rotating
hosts; the `n` label names the wrk run, its thread and a count, so no alert repeats one sent before in the run: each is
new to Alertmanager's store and to Larsbot's dedup, which stores, indexes and announces it rather than counting up an
earlier one). Alertmanager: `POST /api/v2/alerts` with `[alert]`. Larsbot: its Alertmanager door, `POST /api/alertmanager`
with `{{"alerts":[alert]}}` (12 bytes more), where the `severity` label picks the level: `warning` is `irc` (checked for
a repeat, handled, announced; at these rates as storm summaries), `critical` is `urgent` (the same, and each joins the
open countdown, which pages on time through the provider stub). A fresh bot and a fresh Alertmanager per level, warmed up
{args.warmup} s at c=16, then {args.rounds} alternating rounds of {args.duration} s per side at each concurrency;
medians, every round listed below.

| level | concurrency | Larsbot req/s | p99 ms | Alertmanager req/s | p99 ms | throughput ratio | p99 ratio |
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(erow(level, c) for level in ("irc", "urgent") for c in (1, 16, 64))}

Every round, req/s: {'; '.join(f"{level} c={c} Larsbot {', '.join(f'{v:,}' for v in r[f'{level}{c}']['all'])} / Alertmanager {', '.join(f'{v:,}' for v in r[f'{level}am{c}']['all'])}" for level in ("irc", "urgent") for c in (1, 16, 64))}.

## HTTP intake, one alert per request (`level=info`: stored, never handled by the engine)

| concurrency | Larsbot req/s | p50 ms | p99 ms | Alertmanager req/s | p50 ms | p99 ms | throughput ratio | p99 ratio |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{row(1)}
{row(16)}
{row(64)}

Every round, req/s: {'; '.join(f"c={c} Larsbot {', '.join(f'{v:,}' for v in r[f'lars{c}']['all'])} / Alertmanager {', '.join(f'{v:,}' for v in r[f'am{c}']['all'])}" for c in (1, 16, 64))}.

Power-safe (Database:Synchronous=FULL, fsync before every 202; {args.rounds} rounds alternating with Alertmanager,
medians), beside the disk's own limit measured in the same run: {r['disk']:,.0f} single-row commits/s (SQLite WAL,
synchronous=FULL, one INSERT per COMMIT, same file system):
{'; '.join(f"c={c} {r[f'full{c}']['rps']:,.0f} req/s, p99 {r[f'full{c}']['p99']:.2f} ms ({r[f'full{c}']['rps'] / r[f'fullam{c}']['rps']:.2f}× Alertmanager's {r[f'fullam{c}']['rps']:,.0f}; {r[f'full{c}']['rps'] / r['disk']:.2f}× the disk's commit rate)" for c in (1, 16, 64))}.
Non-2xx answers: Larsbot {sum(r[f'lars{c}']['non2xx'] for c in (1, 16, 64))}, Alertmanager {sum(r[f'am{c}']['non2xx'] for c in (1, 16, 64))}.
{pg_section()}
## Memory (RSS, MiB)

| | Larsbot | Alertmanager | ratio |
|---|---:|---:|---:|
| idle | {r['idle']['lars']:.0f} | {r['idle']['am']:.0f} | {r['idle']['lars'] / r['idle']['am']:.2f}× |
| peak under load (c=64) | {r['lars64']['peak']:.0f} | {r['am64']['peak']:.0f} | **{r['lars64']['peak'] / r['am64']['peak']:.2f}×** |
| after the runs | {r['after']['lars']:.0f} ({r['after']['stored']:,} alerts stored) | {r['after']['am']:.0f} | {r['after']['lars'] / r['after']['am']:.2f}× |
| after another c=64 run | {r['after2']['lars']:.0f} ({r['after2']['stored']:,} alerts stored) | | |

Every alert is new, and Alertmanager keeps each one in memory until it has been resolved and collected (an alert sent
without an end is resolved 5 minutes after it was last sent, and collection runs every 30 minutes), so its RSS grows
with what it was sent during the run; Larsbot keeps its alerts in the database file.

## Latency and timing

- Start to first accepted alert (process spawn to first 202, median of 3): **{r['boot'] * 1000:.0f} ms**.
- POST to the alert's line seen by another client through ngircd, over {len(r['irc_latency'])} alerts spaced
  {args.latency_spacing} s (ngircd paces one client to about 3 lines/s; closer spacing measures its queue): p50 **{pct(r['irc_latency'], .5):.1f} ms**,
  p99 {pct(r['irc_latency'], .99):.1f} ms, max {max(r['irc_latency']):.1f} ms.
- Countdown lines against their due times ({len(r['line_err'])} lines, seen by another IRC client; each countdown
  starts on a quiet channel, see "Reading the figures"): p50
  {pct(r['line_err'], .5):.1f} ms, p99 {pct(r['line_err'], .99):.1f} ms, max {max(r['line_err']):.1f} ms.
- Pages against their due times ({len(r['page_err'])} pages, first and everyone, arrival at the provider stand-in):
  p50 {pct(r['page_err'], .5):.1f} ms, p99 {pct(r['page_err'], .99):.1f} ms, max {max(r['page_err']):.1f} ms.
"""
def verdict(ok): return "met" if ok else "**not met**"
def eratio(level): return [r[f'{level}{c}']['rps'] / r[f'{level}am{c}']['rps'] for c in (1, 16, 64)]
def ep99(level): return [r[f'{level}{c}']['p99'] / r[f'{level}am{c}']['p99'] for c in (1, 16, 64)]
md += f"""
## Against the targets (issue 16)

| target | this run | |
|---|---|---|
| engine path, `irc`, ≥ 1.0× Alertmanager at c=1/16/64 | {', '.join(f"{x:.2f}×" for x in eratio('irc'))} | {verdict(all(x >= 1 for x in eratio('irc')))} |
| engine path, `urgent`, ≥ 1.0× Alertmanager at c=1/16/64 | {', '.join(f"{x:.2f}×" for x in eratio('urgent'))} | {verdict(all(x >= 1 for x in eratio('urgent')))} |
| engine path p99 no worse (irc; urgent) | {', '.join(f"{x:.2f}×" for x in ep99('irc'))}; {', '.join(f"{x:.2f}×" for x in ep99('urgent'))} | {verdict(all(x <= 1 for x in ep99('irc') + ep99('urgent')))} |
| idle RSS ≤ 2× Alertmanager's | {r['idle']['lars'] / r['idle']['am']:.2f}× | {verdict(r['idle']['lars'] <= 2 * r['idle']['am'])} |
| peak RSS under c=64 ≤ ⅓ of Alertmanager's (`info`; engine path irc, urgent) | {r['lars64']['peak'] / r['am64']['peak']:.2f}×; {r['irc64']['peak'] / r['ircam64']['peak']:.2f}×, {r['urgent64']['peak'] / r['urgentam64']['peak']:.2f}× | {verdict(all(r[a]['peak'] <= r[b]['peak'] / 3 for a, b in (('lars64', 'am64'), ('irc64', 'ircam64'), ('urgent64', 'urgentam64'))))} |
| start to first 202 ≤ 250 ms | {r['boot'] * 1000:.0f} ms | {verdict(r['boot'] <= 0.25)} |
| power-safe c=64 ≥ 1.0× Alertmanager (group commit) | {r['full64']['rps'] / r['fullam64']['rps']:.2f}× | {verdict(r['full64']['rps'] >= r['fullam64']['rps'])} |
| power-safe c=1 against the disk's own limit | {r['full1']['rps'] / r['disk']:.2f}× of {r['disk']:,.0f} commits/s | reported |
| timing at the default settings, ≥ 500 samples each | see "Timing at the default settings" at the end (bench/timing.py) | there |
"""
growth = r['after2']['lars'] / r['after']['lars'] - 1
md += f"""
## Against the targets (issue 7)

| target | this run | |
|---|---|---|
| durable intake at least as fast as Alertmanager at c=1/16/64 | {', '.join(f"{r[f'lars{c}']['rps'] / r[f'am{c}']['rps']:.2f}×" for c in (1, 16, 64))} | {verdict(all(r[f'lars{c}']['rps'] >= r[f'am{c}']['rps'] for c in (1, 16, 64)))} |
| p99 no worse than Alertmanager's at c=1/16/64 | {', '.join(f"{r[f'lars{c}']['p99'] / r[f'am{c}']['p99']:.2f}×" for c in (1, 16, 64))} | {verdict(all(r[f'lars{c}']['p99'] <= r[f'am{c}']['p99'] for c in (1, 16, 64)))} |
| alert to IRC p50 ≤ 20 ms | {pct(r['irc_latency'], .5):.1f} ms | {verdict(pct(r['irc_latency'], .5) <= 20)} |
| countdown lines within 100 ms of due | max {max(r['line_err']):.0f} ms | {verdict(max(r['line_err']) <= 100)} |
| pages within 100 ms of due | max {max(r['page_err']):.0f} ms | {verdict(max(r['page_err']) <= 100)} |
| memory under load ≤ ⅓ of Alertmanager's | {r['lars64']['peak'] / r['am64']['peak']:.2f}× | {verdict(r['lars64']['peak'] <= r['am64']['peak'] / 3)} |
| memory not growing with stored `info` alerts (open keyed ones cost about 160 bytes each) | {growth * 100:+.1f}% from {r['after']['stored']:,} to {r['after2']['stored']:,} alerts | {verdict(growth < 0.10)} |
"""
md += f"""
## Settings that differ from the defaults

- Every Larsbot run: `Intake:PerHostBurst`, `PerHostPerMinute`, `PerCallerBurst`, `PerCallerPerMinute` = 100000000
  (the comparison is of intake, and Alertmanager has no per-sender limit); `Intake:TcpPort=-1`; `Logging` at
  Warning; Twilio and Pushover pointed at a local stub; `Database:Synchronous=FULL` only in the power-safe row.
- The PostgreSQL rows: `Database:Provider=postgres`, `Database:ConnectionString=Host=127.0.0.1;Port=…;Database=larsbot_<level>;Username=postgres`
  (a fresh database per level), everything else as above; the server at PostgreSQL's defaults (see that section).
- The latency and timing section: `Irc:FloodBurst=4`, `Irc:FloodInterval=00:00:00.340`, `Paging:Countdown=00:00:03`,
  `Paging:TickEvery=00:00:00.500`, `Paging:EscalateAfter=00:00:02`, `Paging:AckModeFor=01:00:00`,
  `Paging:StormThreshold=1000`, and alerts spaced {args.latency_spacing} s.
- wrk: two threads (one at c=1), `-d{args.duration}s`, Lua scripts as in `bench/bench.py`; Alertmanager with a null
  receiver and its default resolve timeout.
"""
md += """
## Reading the figures

- What the intake does per request: parse, validate, per-host limit, then commit. An alert that finds the writer
  idle is committed on its own request's thread; alerts that arrive while a commit runs share the next one (group
  commit). Every 202 follows a COMMIT on the single writer connection. An unkeyed info alert is stored already
  handled ('recorded'), so the engine never handles it. Every alert's INSERT touches the table only: the paging
  engine finds new alerts above its handled mark, by id. It handles them within 5 ms (`Paging:MinPassGap`), or within
  20 ms while a storm goes on (`Paging:StormPassGap`): one statement a pass reads up to 256 fresh alerts with their
  originals by host and text; originals by key (the JSON rows: Alertmanager fingerprints) come from the engine's
  open keys in memory (`Paging/OpenKeys.cs`), each candidate read by id. Marking an alert handled appends it to the
  index of open keyed alerts by id; no index keyed by the fingerprint is written.
- What limits it: the two cores. wrk, the bot's HTTP handling and SQLite share them. At c=1 one request is in
  flight: its round trip (thread wake-ups, the commit's system calls) is the limit, and an engine pass that takes a
  core meanwhile holds it up. The `level=irc` row shows what the engine's work costs on top of `info`.
  How each piece was measured, and what was tried and left out, is in `docs/performance-notes.md`.
- Countdown lines: ngircd paces what one client sends (about 3 lines/s). A countdown started within a second of the
  bot's own burst (a duty change's reply and topic) had its first line held about 500 ms by the server, with the
  bot's own throttle still holding tokens. The harness therefore starts each countdown on a quiet channel; the
  figures are the bot's timing through the server, not the server's pacing of a burst.
- IRC latency, max: in each full run of 2026-11-30 one sample of 1,000 took 1.6 to 3 s. `--timing-only` prints any
  sample over 100 ms with the lines the watcher saw before it, and showed why: the ledger's 5-minute pass said one
  "incident report missing" line per page (8 here, from the countdown probes) just before, and the URGENT line
  queued behind them. Reminders are now one line per person. With that, the same run's slowest sample was 903 ms,
  just behind that one long line; p50 and p99 were never affected. Since then the paging engine's lines also go
  ahead of any chatter (replies, reminders) waiting for the bot's flood throttle.
- Memory: Alertmanager keeps every alert in memory until it has resolved and been collected, so its RSS follows how
  many different alerts it was sent. With the earlier harness, whose alerts repeated from round to round, that was
  322 to 451 MB at c=64 (2026-11-23 and 2026-11-30); since every alert is new (2026-12-02) it holds all of them, well
  over 1 GB by the c=64 round. Larsbot's RSS is mostly the runtime and its code; its alerts live in the database file.
  The one thing it keeps per alert is the key of each open keyed alert (the engine's open keys, about 160 bytes of RSS
  each: 82 MB more for 516,000 keys, against the build before them): the engine-path rows never resolve anything, so
  their peaks grow with every alert sent in the run, where the `info` rows' do not.
"""
with open(args.out, "w") as f: f.write(md)
print(md)
