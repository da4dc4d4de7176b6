"""What the benchmark scripts share: free loopback ports, stopping what they start, RSS, and the Twilio/Pushover
stand-in that records when each page arrived."""
import json, signal, socket, subprocess, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill(); p.wait()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return 0.0


class _ProviderServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of pages from many bots at once overflowed it, and the bots
    # saw dropped connections ("response ended prematurely", or a SYN resent after 1 s) that Twilio would never cause.
    request_queue_size = 1024
    daemon_threads = True


def provider_stub(on_page):
    """Starts the Twilio/Pushover stand-in on loopback; on_page(monotonic time, path, form fields) for each request.
    Answers as the real APIs do on success (Twilio 201 with a sid, Pushover 200 with a request and a receipt).
    Returns (server, base URL); server.shutdown() stops it."""
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
                self._json(200, {"sid": "SM" + "0" * 32, "status": "delivered"})
            else:
                self._json(200, {"status": 1, "acknowledged": 0, "expired": 0, "called_back": 0})

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            on_page(time.monotonic(), self.path, urllib.parse.parse_qs(self.rfile.read(n).decode()))
            self._json(201 if "/Accounts/" in self.path else 200,
                       {"sid": "SM" + "0" * 32, "status": 1, "request": "r", "receipt": "r" + "0" * 29})
        def log_message(self, *a): pass
    server = _ProviderServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
