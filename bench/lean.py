#!/usr/bin/env python3
"""How lean the process is under each runtime option .NET offers (issue 16, part 2), measured the same way for all:
start to first 202 (process spawn to the first accepted alert, a fresh SQLite file each time) and idle RSS (5 s after
that first 202, nothing else happening), the median of --starts starts each, all in one run, loopback only.

  python3 bench/lean.py [--starts 5] [--r2r DIR] [--native FILE]
  (bash bench/run.sh builds first; --r2r: a ReadyToRun publish; --native: scripts/publish.sh's out/native/larsbot)

Prints one Markdown table. Stops everything it starts."""
import argparse, os, shutil, statistics, subprocess, tempfile, time, urllib.error, urllib.parse, urllib.request
from harness import free_port, rss_mib, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPHOST = os.path.join(ROOT, "src/Larsbot/bin/Release/net10.0/larsbot")
ap = argparse.ArgumentParser()
ap.add_argument("--starts", type=int, default=5)
ap.add_argument("--idle", type=float, default=5.0, help="seconds after the first 202 before reading RSS")
ap.add_argument("--r2r", help="folder of `dotnet publish -c Release -r linux-x64 -p:PublishReadyToRun=true` (adds rows)")
ap.add_argument("--native", help="the Native AOT executable (scripts/publish.sh) (adds rows)")
args = ap.parse_args()
work = tempfile.mkdtemp(prefix="larsbot-lean-")



irc_port = free_port()
os.makedirs(f"{work}/ngircd", exist_ok=True)
with open(f"{work}/ngircd/ngircd.conf", "w") as f:
    f.write(f"[Global]\nName = irc.lean\nPorts = {irc_port}\nListen = 127.0.0.1\nPidFile = {work}/ngircd/pid\n"
            "[Limits]\nMaxConnectionsIP = 0\n[Options]\nDNS = no\nIdent = no\nPAM = no\n")
ircd = subprocess.Popen([shutil.which("ngircd") or "/usr/sbin/ngircd", "-n", "-f", f"{work}/ngircd/ngircd.conf"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def one_start(exe, env_extra, n):
    port = free_port()
    env = dict(os.environ)
    env.update({
        "LARSBOT_Irc__Server": "127.0.0.1", "LARSBOT_Irc__Port": str(irc_port), "LARSBOT_Irc__Nick": f"lean{n}",
        "LARSBOT_Intake__HttpUrl": f"http://127.0.0.1:{port}", "LARSBOT_Intake__TcpPort": "-1",
        "LARSBOT_Roster__Path": os.path.join(ROOT, "roster.sample.json"),
        "LARSBOT_Database__Path": os.path.join(work, f"lean{n}.db"),
        "LARSBOT_Logging__LogLevel__Default": "Warning", "LARSBOT_Ledger__ReportFolder": os.path.join(work, "reports"),
    })
    env.update(env_extra)
    body = urllib.parse.urlencode({"host": "boot", "level": "info", "message": "first"}).encode()
    t0 = time.monotonic()
    p = subprocess.Popen([exe, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=work)
    try:
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/alerts", data=body), timeout=2) as r:
                    if r.status == 202: break
            except (urllib.error.URLError, ConnectionError, OSError): pass
            if time.monotonic() - t0 > 60: raise TimeoutError("bot did not start")
            time.sleep(0.005)
        boot = time.monotonic() - t0
        time.sleep(args.idle)
        return boot, rss_mib(p.pid)
    finally:
        stop(p)


variants = [
    ("as built (workstation GC, concurrent: ServerGarbageCollection=false)", APPHOST, {}),
    ("server GC (the Web SDK's default)", APPHOST, {"DOTNET_gcServer": "1"}),
    ("workstation, non-concurrent GC", APPHOST, {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0"}),
    ("workstation, non-concurrent, TieredPGO off", APPHOST, {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0", "DOTNET_TieredPGO": "0"}),
    ("workstation, non-concurrent, gen0 budget 4 MiB", APPHOST, {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0", "DOTNET_GCgen0size": "0x400000"}),
    ("server GC, conserve memory 7", APPHOST, {"DOTNET_gcServer": "1", "DOTNET_GCConserveMemory": "7"}),
    ("TieredCompilation off (everything optimised at first JIT)", APPHOST, {"DOTNET_TieredCompilation": "0"}),
    ("invariant globalization (runtime switch)", APPHOST, {"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"}),
]
if args.r2r:
    r2r = os.path.join(args.r2r, "larsbot")
    variants += [
        ("ReadyToRun publish", r2r, {}),
        ("ReadyToRun publish, workstation non-concurrent GC", r2r, {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0"}),
    ]

if args.native:
    variants += [
        ("Native AOT (scripts/publish.sh; Dapper.AOT, source-generated JSON and options binding)", args.native, {}),
        ("Native AOT, server GC (the Web SDK's default)", args.native, {"DOTNET_gcServer": "1"}),
        ("Native AOT, workstation non-concurrent GC, gen0 budget 2 MiB", args.native,
         {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0", "DOTNET_GCgen0size": "0x200000"}),
        ("Native AOT, invariant globalization (runtime switch)", args.native, {"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"}),
    ]

rows = []
try:
    n = 0
    for name, exe, extra in variants:
        boots, rss = [], []
        for _ in range(args.starts):
            n += 1
            b, r = one_start(exe, extra, n)
            boots.append(b); rss.append(r)
        rows.append((name, statistics.median(boots) * 1000, statistics.median(rss), boots, rss))
        print(f"{name}: start {rows[-1][1]:.0f} ms, idle {rows[-1][2]:.0f} MiB "
              f"(starts {', '.join(f'{x * 1000:.0f}' for x in boots)}; rss {', '.join(f'{x:.0f}' for x in rss)})", flush=True)
finally:
    stop(ircd)
    shutil.rmtree(work, ignore_errors=True)

print()
print(f"| option | start to first 202, ms (median of {args.starts}) | idle RSS, MiB (median) |")
print("|---|---:|---:|")
for name, boot, rss, _, _ in rows:
    print(f"| {name} | {boot:.0f} | {rss:.0f} |")
