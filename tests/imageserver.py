"""A real HTTP server on 127.0.0.1 for download tests (the standard library's, in a thread).

image_server.add("/web/2022im_/https://example.com/a.jpg", body=jpeg())
image_server.url("/web/2022im_/https://example.com/a.jpg")  # percent-encoded
image_server.hits["/web/..."]  # requests seen, by decoded path
"""

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "image/jpeg"
    fail_times: int = 0  # answer 500 this many times first
    delay: float = 0.0  # seconds before answering
    location: str = ""  # a redirect
    send_length: bool = True
    headers: list[dict] = field(default_factory=list)  # request headers seen


class ImageServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes; without this, Nagle's
            # algorithm holds the body back for the client's delayed ACK.
            disable_nagle_algorithm = True

            def do_GET(self):
                path = unquote(self.path)
                server.hits[path] += 1
                route = server.routes.get(path)
                if route is None:
                    self.send_error(404)
                    return
                route.headers.append(dict(self.headers))
                if route.delay:
                    server.released.wait(route.delay)
                if server.hits[path] <= route.fail_times:
                    self.send_error(500)
                    return
                if route.location:
                    self.send_response(302)
                    self.send_header("Location", route.location)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A client that gave up (a timeout test) leaves a broken pipe.
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        # A short poll makes shutdown() at the end of each test quick.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def add(self, path: str, **route) -> str:
        self.routes[path] = Route(**route)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{quote(path, safe='/:%')}"


@pytest.fixture
def image_server():
    server = ImageServer()
    server.thread.start()
    yield server
    server.released.set()
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def fetch_settings(settings, image_server):
    """Fast, strict fetch settings that let the tests' own server (and only it) be reached."""
    settings.NEWSROOM_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{image_server.port}"]
    settings.NEWSROOM_FETCH_RATE = 0
    settings.NEWSROOM_FETCH_BACKOFF = 0
    settings.NEWSROOM_FETCH_RETRIES = 2
    settings.NEWSROOM_FETCH_CONNECT_TIMEOUT = 2
    settings.NEWSROOM_FETCH_READ_TIMEOUT = 0.3
    settings.NEWSROOM_FETCH_WORKERS = 2
    settings.NEWSROOM_IMAGE_MAX_BYTES = 300_000
    return settings
