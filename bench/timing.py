#!/usr/bin/env python3
"""Timing at the default settings (issue 16, part 4): how late the bot's lines and pages are, with every paging and
IRC setting at its default (30 s countdown, a line every 5 s, everybody after 5 min, flood interval 1 s, burst 4),
over at least 500 samples each, loopback only.

  python3 bench/timing.py --native out/native/larsbot [--bots 20] [--rounds 9] [--latency-rounds 15] [--escalations 20]

At the defaults one countdown takes 30 s and one IRC client may say about a line a second, so the samples come from
--bots bots side by side, each in its own channel of one ngircd, each with its own SQLite file; one watcher client
sits in every channel and holds duty in each. Per bot:
  1. --rounds countdowns, one after another: a keyed urgent alert; its URGENT line (POST to line seen); the five
     countdown lines against their due times (POST + 5, 10, ... 25 s); the first page (SMS and push to the person on
     duty) against POST + 30 s; then the alert is resolved, which closes the countdown, and the channel is let go
     quiet (3 s) before the next.
  2. --latency-rounds more URGENT lines on a quiet channel (alert, line, resolve, 3 s of quiet).
And --escalations more bots, alongside, each with one countdown left unresolved: the person on duty is paged at
POST + 30 s and everybody at POST + 30 s + 5 min; those pages are measured too.
Every due time is counted from the POST, so each figure includes the intake and the engine's pass.
Prints a Markdown section. Stops everything it starts."""
import argparse, os, shutil, socket, subprocess, tempfile, threading, time, urllib.parse, urllib.request
from harness import free_port, provider_stub, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--native", required=True, help="the bot executable (scripts/publish.sh's out/native/larsbot)")
ap.add_argument("--bots", type=int, default=20)
ap.add_argument("--rounds", type=int, default=9, help="countdowns per bot")
ap.add_argument("--latency-rounds", type=int, default=15, help="extra quiet-channel URGENT lines per bot")
ap.add_argument("--escalations", type=int, default=20, help="bots that each leave one countdown to page everybody")
ap.add_argument("--keep", action="store_true", help="keep the work folder (the bots' databases and logs) and print it")
args = ap.parse_args()
work = tempfile.mkdtemp(prefix="larsbot-timing-")
procs = []


# The provider stand-in: records when each page arrived and what it said, and wakes whoever waits for pages.
pages, pages_cv = [], threading.Condition()
def on_page(t, path, fields):
    with pages_cv:
        pages.append((t, path, " ".join(v[0] for k, v in fields.items() if k in ("Body", "message", "Twiml"))))
        pages_cv.notify_all()
stub, stub_url = provider_stub(on_page)

irc_port = free_port()
os.makedirs(f"{work}/ngircd"); os.chmod(f"{work}/ngircd", 0o777)
with open(f"{work}/ngircd/ngircd.conf", "w") as f:
    f.write(f"[Global]\nName = irc.timing\nPorts = {irc_port}\nListen = 127.0.0.1\nPidFile = {work}/ngircd/pid\n"
            "[Limits]\nMaxConnectionsIP = 0\nMaxJoins = 100\nMaxNickLength = 30\n[Options]\nDNS = no\nIdent = no\nPAM = no\n")
procs.append(subprocess.Popen([shutil.which("ngircd") or "/usr/sbin/ngircd", "-n", "-f", f"{work}/ngircd/ngircd.conf"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
time.sleep(0.5)

# The watcher: one client in every channel, recording when each line arrived.
lines, cv = [], threading.Condition()
sock = socket.create_connection(("127.0.0.1", irc_port))
def reader():
    buf = b""
    while True:
        try: data = sock.recv(65536)
        except OSError: return
        if not data: return
        buf += data
        while b"\r\n" in buf:
            raw, buf = buf.split(b"\r\n", 1); l = raw.decode("utf-8", "replace")
            if l.startswith("PING"): sock.sendall(("PONG" + l[4:] + "\r\n").encode())
            with cv: lines.append((time.monotonic(), l)); cv.notify_all()
threading.Thread(target=reader, daemon=True).start()
def send(s): sock.sendall((s + "\r\n").encode())
def wait_for(pred, after=0, timeout=400):
    end = time.monotonic() + timeout
    with cv:
        while True:
            for i in range(after, len(lines)):
                if pred(lines[i][1]): return i
            if not cv.wait(max(0.0, end - time.monotonic())): raise TimeoutError("line not seen")
send("NICK brong"); send("USER brong 0 * :b"); wait_for(lambda l: " 001 " in l)


def post(base, **fields):
    body = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/alerts", data=body), timeout=10) as r: return r.status


def start_bot(k):
    port = free_port()
    env = dict(os.environ)
    env.update({
        "LARSBOT_Irc__Server": "127.0.0.1", "LARSBOT_Irc__Port": str(irc_port), "LARSBOT_Irc__Channel": f"#ops{k}",
        "LARSBOT_Irc__Nick": f"Lars{k}", "LARSBOT_Intake__HttpUrl": f"http://127.0.0.1:{port}", "LARSBOT_Intake__TcpPort": "-1",
        "LARSBOT_Roster__Path": os.path.join(ROOT, "roster.sample.json"), "LARSBOT_Database__Path": f"{work}/bot{k}.db",
        "LARSBOT_Twilio__AccountSid": "AC" + "0" * 32, "LARSBOT_Twilio__AuthToken": "t" * 32,
        "LARSBOT_Twilio__From": "+15005550006", "LARSBOT_Twilio__BaseUrl": stub_url,
        "LARSBOT_Pushover__AppToken": "a" * 30, "LARSBOT_Pushover__BaseUrl": stub_url,
        "LARSBOT_Logging__LogLevel__Default": "Warning", "LARSBOT_Ledger__ReportFolder": f"{work}/reports{k}",
    })
    procs.append(subprocess.Popen([args.native, "run"], env=env, stdout=open(f"{work}/bot{k}.log", "w"),
                                  stderr=subprocess.STDOUT, cwd=work))
    return f"http://127.0.0.1:{port}"


said = lambda k, text: (lambda l: f" PRIVMSG #ops{k} :" in l and text in l)
line_err, page_err, urgent_lat, escalation_err = [], [], [], []
lock = threading.Lock()


def pages_for(host, after):
    with pages_cv: return [t for t, _, text in pages if t >= after and f"{host}:" in text]


def wait_pages(host, mark, n, until):
    """Arrival times of the first n pages naming host among those after index mark, or fewer at until. Woken by each
    page and looking only at the new ones: 40 waiting threads polling and rescanning every page would load the
    machine (and the stand-in's own thread) just when the pages arrive."""
    found, i = [], mark
    with pages_cv:
        while True:
            for t, _, text in pages[i:]:
                if f"{host}:" in text: found.append(t)
            i = len(pages)
            left = until - time.monotonic()
            if len(found) >= n or left <= 0: return found[:n]
            pages_cv.wait(left)


worst = []   # (ms late, what, host, provider path): the slowest samples are printed, to say where to look


def note(ms, what, host, path=""):
    with lock: worst.append((ms, what, host, path))


def countdown(k, base, host, resolve):
    mark = len(lines); page_mark = len(pages); t0 = time.monotonic()
    post(base, host=host, level="urgent", message="timing probe", key=host)
    i = wait_for(said(k, f"URGENT {host} - timing probe"), mark)
    with lock: urgent_lat.append((lines[i][0] - t0) * 1000)
    for n, left in enumerate((25, 20, 15, 10, 5), start=1):
        i = wait_for(said(k, f"{host}: timing probe' in {left} secs to"), i + 1)
        with lock: line_err.append((lines[i][0] - (t0 + 5 * n)) * 1000)
        note((lines[i][0] - (t0 + 5 * n)) * 1000, f"countdown line {n}", host)
    first = wait_pages(host, page_mark, 2, t0 + 60)
    with lock: page_err.extend((t - (t0 + 30)) * 1000 for t in first)
    for t in first: note((t - (t0 + 30)) * 1000, "first page", host)
    if resolve:
        mark = len(lines); post(base, key=host, action="resolve")
        wait_for(said(k, "resolved: page #"), mark)
        time.sleep(3)   # the channel goes quiet before the next probe
    return t0


def quiet_urgent(k, base, host):
    mark = len(lines); t0 = time.monotonic()
    post(base, host=host, level="urgent", message="latency probe", key=host)
    i = wait_for(said(k, f"URGENT {host} - latency probe"), mark)
    with lock: urgent_lat.append((lines[i][0] - t0) * 1000)
    post(base, key=host, action="resolve")
    wait_for(said(k, "resolved: page #"), i)
    time.sleep(3)


def one_bot(k, base, errors):
    try:
        mark = len(lines)
        send(f"JOIN #ops{k}")
        # The bot is in the channel: named in the NAMES reply to our JOIN, or seen joining after it.
        wait_for(lambda l: (f" 353 brong " in l and f"#ops{k} :" in l and f"Lars{k}" in l)
                 or (f":Lars{k}!" in l and f" JOIN #ops{k}" in l), mark, timeout=60)
        mark = len(lines); send(f"PRIVMSG #ops{k} :lars duty take"); wait_for(said(k, "is now on duty"), mark)
        time.sleep(4)   # the reply and the new topic have gone out: a quiet channel
        if k >= args.bots:
            # Left unresolved: the person on duty is paged at 30 s, everybody at 30 s + 5 min.
            host = f"b{k}esc"; t0 = countdown(k, base, host, resolve=False)
            due = t0 + 30 + 300
            while time.monotonic() < due + 15: time.sleep(0.5)
            with lock: escalation_err.extend((t - due) * 1000 for t in pages_for(host, t0) if t >= due - 1)
            for t in pages_for(host, t0):
                if t >= due - 1: note((t - due) * 1000, "everybody page", host)
            return
        for r in range(args.rounds): countdown(k, base, f"b{k}r{r}", resolve=True)
        for r in range(args.latency_rounds): quiet_urgent(k, base, f"b{k}q{r}")
    except Exception as e:
        errors.append(f"bot {k}: {e!r}")


try:
    bases = [start_bot(k) for k in range(args.bots + args.escalations)]
    for base in bases:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2): break
            except Exception:
                if time.monotonic() > end: raise TimeoutError(base)
                time.sleep(0.1)
    errors = []
    # The escalation bots first: theirs is the longest wait.
    order = list(range(args.bots, len(bases))) + list(range(args.bots))
    threads = [threading.Thread(target=one_bot, args=(k, bases[k], errors)) for k in order]
    for t in threads: t.start(); time.sleep(0.25)   # staggered, so the bots' lines do not all fall in one instant
    for t in threads: t.join()
finally:
    for p in procs: stop(p)
    stub.shutdown()
    if args.keep: print(f"kept: {work}")
    else: shutil.rmtree(work, ignore_errors=True)


def pct(v, q): v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))]
def stats(v): return f"p50 {pct(v, .5):.1f} ms, p99 {pct(v, .99):.1f} ms, max {max(v):.1f} ms" if v else "no samples"
pages_all = page_err + escalation_err
print(f"""
## Timing at the default settings (bench/timing.py, same run)

Every paging and IRC setting at its default (countdown 30 s, a line every 5 s, everybody after 5 min, flood interval
1 s with a burst of 4). {args.bots} native bots side by side (and {args.escalations} more that each leave one countdown to page everybody), each in its own channel of one ngircd with its own
SQLite file, one watcher in every channel holding duty; due times counted from each POST, so every figure includes
intake and the engine's pass.{' Errors: ' + '; '.join(errors) if errors else ''}

| what | samples | how late | target |
|---|---:|---|---|
| POST to its URGENT line, channel quiet | {len(urgent_lat)} | {stats(urgent_lat)} | p50 ≤ 20 ms: {'met' if urgent_lat and pct(urgent_lat, .5) <= 20 else '**not met**'} |
| countdown lines against their due times | {len(line_err)} | {stats(line_err)} | within 100 ms: {'met' if line_err and max(line_err) <= 100 else '**not met**'} |
| pages against their due times (first: {len(page_err)}, everybody: {len(escalation_err)}) | {len(pages_all)} | {stats(pages_all)} | within 100 ms: {'met' if pages_all and max(pages_all) <= 100 else '**not met**'} |
| ≥ 500 samples each | | {'met' if min(len(urgent_lat), len(line_err), len(pages_all)) >= 500 else '**not met**'} | |
""")
print("Slowest samples: " + "; ".join(f"{what} {host} {ms:.0f} ms" for ms, what, host, _ in sorted(worst, reverse=True)[:12]) + ".")
