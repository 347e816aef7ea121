"""A local HTTP proxy in front of a real `mlflow server` that fails chosen endpoints, to make
MLflow fail at one exact moment of a run (logging, registering, moving the alias) while every
other call reaches the real server, or does something (Ctrl-C the command) at such a moment."""
from __future__ import annotations

import contextlib
import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
               "proxy-authenticate"}


@dataclass
class FailingProxy:
    uri: str
    upstream: str
    # (method, path regex): answered 503 instead of being forwarded, while set.
    failing: set[tuple[str, str]] = field(default_factory=set)
    # (method, path regex) -> called before such a request is forwarded (or failed): something to
    # happen at exactly that moment of the run.
    before: dict[tuple[str, str], Callable[[], None]] = field(default_factory=dict)
    # (method, path regex) -> called once the real server has answered such a request, before the
    # answer is passed on: what the call did is done, and the caller does not know it yet.
    after: dict[tuple[str, str], Callable[[], None]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def fails(self, method: str, path: str) -> bool:
        return any(m == method and re.search(p, path) for m, p in self.failing)


def _handler(proxy: FailingProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlparse(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _forward(self) -> None:
            body = self._body()
            proxy.seen.append((self.command, self.path))
            for (method, pattern), call in proxy.before.items():
                if method == self.command and re.search(pattern, self.path):
                    call()
            if proxy.fails(self.command, self.path):
                proxy.failed.append((self.command, self.path))
                answer = b"simulated failure of the tracking server"
                self.send_response(503)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                return
            conn = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                for (method, pattern), call in proxy.after.items():
                    if method == self.command and re.search(pattern, self.path):
                        call()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a caller that gave up waiting
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815 (http.server's naming)

    return Handler


@contextmanager
def failing_proxy(upstream: str) -> Iterator[FailingProxy]:
    """A proxy to `upstream` on a free local port; set `.failing` to make endpoints fail."""
    proxy = FailingProxy(uri="", upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    proxy.uri = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
