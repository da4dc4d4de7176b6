#!/usr/bin/env python3
"""Drives a running Larsbot (scripts/run-local.sh) as a person would and prints the channel transcript.

Joins #ops as brong_, takes duty, posts an urgent alert over HTTP, lets two countdown lines pass, acks, then
measures POST -> "URGENT" line latency (seen by this second client) over N urgent alerts in ack mode. Loopback only; stops itself.
    python3 scripts/transcript.py [--irc-port 16667] [--http http://127.0.0.1:8080] [--samples 30] [--spacing 1.1]
"""
import argparse, socket, statistics, threading, time, urllib.parse, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--irc-port", type=int, default=16667)
ap.add_argument("--http", default="http://127.0.0.1:8080")
ap.add_argument("--samples", type=int, default=30)
ap.add_argument("--spacing", type=float, default=1.1, help="seconds between latency samples")
args = ap.parse_args()

sock = socket.create_connection(("127.0.0.1", args.irc_port), timeout=60)
lines, cv = [], threading.Condition()

def reader():
    buf = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        buf += data
        while b"\r\n" in buf:
            raw, buf = buf.split(b"\r\n", 1)
            line = raw.decode("utf-8", "replace")
            if line.startswith("PING"):
                sock.sendall(("PONG" + line[4:] + "\r\n").encode())
            with cv:
                lines.append((time.monotonic(), line))
                cv.notify_all()

threading.Thread(target=reader, daemon=True).start()
send = lambda s: sock.sendall((s + "\r\n").encode())

def wait_for(pred, after=0, timeout=60):
    end = time.monotonic() + timeout
    with cv:
        while True:
            for i in range(after, len(lines)):
                if pred(lines[i][1]):
                    return i
            if not cv.wait(end - time.monotonic()):
                raise TimeoutError("not seen")

def post(host, level, message):
    body = urllib.parse.urlencode({"host": host, "level": level, "message": message}).encode()
    with urllib.request.urlopen(urllib.request.Request(args.http + "/alerts", data=body), timeout=10) as r:
        return r.status, r.read().decode()

def show(t, line, t0):
    nick = line[1:].split("!")[0]
    if " PRIVMSG #ops :" in line:
        print(f"[{t - t0:6.2f}s] <{nick}> {line.split(' PRIVMSG #ops :', 1)[1]}")
    elif " TOPIC #ops :" in line:
        print(f"[{t - t0:6.2f}s] * {nick} has changed the topic to: {line.split(' TOPIC #ops :', 1)[1]}")

send("NICK brong_"); send("USER brong 0 * :Bron")
wait_for(lambda l: " 001 " in l)
send("JOIN #ops")
wait_for(lambda l: " 366 " in l)
start = len(lines)
t0 = time.monotonic()
send("PRIVMSG #ops :lars duty take"); lines.append((time.monotonic(), ":brong_!x@y PRIVMSG #ops :lars duty take"))
wait_for(lambda l: "is now on duty" in l, start)
posted = time.monotonic()
status, body = post("gateway2", "urgent", "rblcheck: listed")
lines.append((posted, f":curl!x@y PRIVMSG #ops :(curl POST /alerts -> {status} {body})"))
i = wait_for(lambda l: "PRIVMSG #ops :URGENT gateway2" in l, start)
first_latency = (lines[i][0] - posted) * 1000
wait_for(lambda l: "in 20 secs" in l, start)
send("PRIVMSG #ops :lars ack"); lines.append((time.monotonic(), ":brong_!x@y PRIVMSG #ops :lars ack"))
wait_for(lambda l: "ack: OK" in l, start)
send("PRIVMSG #ops :lars ack"); lines.append((time.monotonic(), ":brong_!x@y PRIVMSG #ops :lars ack"))
wait_for(lambda l: "no issues to ack" in l, start)
time.sleep(0.5)  # let the last topic line arrive before printing
for t, l in sorted(lines[start:], key=lambda x: x[0]):
    show(t, l, t0)

# Latency: in ack mode every urgent alert is announced at once (no countdown), so each POST gives one URGENT line.
# Samples are spaced past the bot's flood throttle (1 line/s after a burst): this measures the path, not the queue.
lat = []
for n in range(args.samples):
    time.sleep(args.spacing)
    mark = len(lines)
    t = time.monotonic()
    post(f"lat{n}", "urgent", "latency probe")
    j = wait_for(lambda l, n=n: f":URGENT lat{n} - " in l, mark)
    lat.append((lines[j][0] - t) * 1000)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"\nPOST -> URGENT line seen by another client: first alert {first_latency:.1f} ms; "
      f"over {len(lat)} alerts p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms")
send("QUIT :done")
