"""What the benchmark scripts share: free loopback ports, stopping what they start, RSS, the Twilio/Pushover
stand-in that records when each page arrived, and a throw-away PostgreSQL 15 server."""
import itertools, json, os, shutil, signal, socket, subprocess, tempfile, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill(); p.wait()


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    except FileNotFoundError: pass  # it has exited (a run being stopped)
    return 0.0


class _ProviderServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of pages from many bots at once overflowed it, and the bots
    # saw dropped connections ("response ended prematurely", or a SYN resent after 1 s) that Twilio would never cause.
    request_queue_size = 1024
    daemon_threads = True


def provider_stub(on_page):
    """Starts the Twilio/Pushover stand-in on loopback; on_page(monotonic time, path, form fields) for each request.
    Answers as the real APIs do on success (Twilio 201 with a sid, Pushover 200 with a request and a receipt).
    Returns (server, base URL); server.shutdown() stops it. Every message gets its own sid, as Twilio's do."""
    sids = itertools.count(1)

    class Stub(BaseHTTPRequestHandler):
        # Keep-alive, as the real APIs do: a burst of pages from many bots then opens few connections, not one each.
        protocol_version = "HTTP/1.1"

        def _json(self, code, body):
            out = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(out)))
            self.end_headers(); self.wfile.write(out)

        def do_GET(self):
            # The bot polls what it sent: Twilio's message status and Pushover's receipt (not acknowledged).
            if "/Accounts/" in self.path:
                self._json(200, {"sid": self.path.rsplit("/", 1)[-1].removesuffix(".json"), "status": "delivered"})
            else:
                self._json(200, {"status": 1, "acknowledged": 0, "expired": 0, "called_back": 0})

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            on_page(time.monotonic(), self.path, urllib.parse.parse_qs(self.rfile.read(n).decode()))
            self._json(201 if "/Accounts/" in self.path else 200,
                       {"sid": f"SM{next(sids):032x}", "status": 1, "request": "r", "receipt": "r" + "0" * 29})
        def log_message(self, *a): pass
    server = _ProviderServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


PG_BIN = "/usr/lib/postgresql/15/bin"  # Debian's postgresql-15 (bench/run.sh installs it when missing)


class Postgres:
    """A throw-away PostgreSQL 15 server for one run: a cluster in a temp folder, listening on 127.0.0.1 on a free
    port only (its unix socket in that folder), superuser postgres with trust authentication. PostgreSQL refuses to
    run as root, so when the harness is root its programs run as the OS user postgres (setpriv, which execs: the
    process started is the postmaster itself) and the folder is chowned to that user.

    Durability is PostgreSQL's default (fsync=on, synchronous_commit=on, full_page_writes=on): a commit is flushed to
    disk before the bot's 202, as on a real database server. initdb --no-sync only skips flushing initdb's own files,
    which the run throws away. The only settings given are where to listen and lc_messages=C (English log lines),
    plus `settings` (name: value) if the caller has a reason to change any.

    Use `with Postgres() as pg:` or call stop() in a finally: it stops the server (pg_ctl stop -m fast, else kill)
    and removes the folder, also after Ctrl+C, which reaches the postmaster too (same process group: fast shutdown)."""

    def __init__(self, settings=None, prefix="larsbot-bench-pg-"):
        self.settings = dict(settings or {})
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        self.port = None
        self.proc = None
        self._as_postgres = os.geteuid() == 0
        try:
            if not os.path.exists(os.path.join(PG_BIN, "initdb")):
                raise RuntimeError(f"{PG_BIN}/initdb not found: install Debian's postgresql-15 (bench/run.sh does)")
            if self._as_postgres: shutil.chown(self.dir, "postgres", "postgres")
            out = self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync",
                            "--encoding=UTF8", "--locale=C", "--no-instructions")
            if out.returncode != 0: raise RuntimeError(f"initdb failed ({out.returncode}):\n{out.stdout}")
            for attempt in range(3):  # the free port can be taken before the server binds it
                self.port = free_port()
                if self._start(): break
                if attempt == 2 or "could not bind" not in self.log(): raise RuntimeError(f"PostgreSQL did not start:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def _cmd(self, program, *args):
        path = os.path.join(PG_BIN, program)
        pre = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] if self._as_postgres else []
        return pre + [path, *args]

    def _run(self, program, *args, timeout=120):
        return subprocess.run(self._cmd(program, *args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=self.dir, env=dict(os.environ, LC_ALL="C"), timeout=timeout)

    def _start(self):
        opts = {"listen_addresses": "127.0.0.1", "unix_socket_directories": self.dir, "lc_messages": "C", **self.settings}
        args = ["-D", self.data, "-p", str(self.port)]
        for k, v in opts.items(): args += ["-c", f"{k}={v}"]
        log = open(self.log_path, "a")  # owned by root; the postmaster writes through the inherited descriptor
        self.proc = subprocess.Popen(self._cmd("postgres", *args), stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=dict(os.environ, LC_ALL="C"))
        log.close()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.proc.poll() is not None: return False
            if "database system is ready to accept connections" in self.log() and \
                    subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f: return f.read()
        except OSError: return ""

    def psql(self, sql, database="postgres"):
        """Runs sql through psql over TCP; returns its unaligned, tuples-only output."""
        out = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0: raise RuntimeError(f"psql: {out.stderr.strip()}")
        return out.stdout.strip()

    def create_database(self, name):
        """A fresh, empty database; returns the Npgsql connection string for it."""
        self.psql(f'CREATE DATABASE "{name}"')
        return f"Host=127.0.0.1;Port={self.port};Database={name};Username=postgres"

    def setting(self, name):
        return self.psql(f"SHOW {name}")

    def stop(self):
        """Stops the server and removes its folder; safe to call more than once, and after a failed start."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    out = self._run("pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "30", timeout=40)
                    ok = out.returncode == 0
                except subprocess.TimeoutExpired: ok = False
                try: self.proc.wait(5 if ok else 0.1)
                except subprocess.TimeoutExpired:
                    # Its backends notice the postmaster's death and exit by themselves.
                    self.proc.kill(); self.proc.wait()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self): return self

    def __exit__(self, *exc): self.stop()
