"""Download one file over HTTP(S), politely and defensively.

Used to copy archived images from the Wayback Machine. A download:

- goes only to http and https addresses, following at most a few redirects;
- never reaches a loopback, private, link-local or otherwise non-public
  address (the cloud metadata service at 169.254.169.254, a database on
  10.0.0.5), whether named directly or by a redirect, unless the address is on
  an explicit allowlist. The address checked is the address connected to, so a
  name that resolves differently a second time cannot slip past the check;
- has a connect timeout, a read timeout (for each wait on the network) and a
  deadline for the whole response, and stops reading past a size cap;
- is retried with exponential back-off after a timeout, a dropped connection
  or a 5xx answer, and never after a 4xx one;
- waits its turn under a rate limit shared by every thread of the downloader.

Knows nothing of Django: `articles.fetching` builds the `Policy` from settings.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

# What a URL path or query may keep as it is; anything else (Chinese, spaces) is
# percent-encoded as UTF-8, the way a browser sends it. "%" stays: the archive's
# addresses are already partly encoded ("Vladimir%20Putin").
URL_SAFE = "/%:@!$&'()*+,;=~?"
CHUNK = 64 * 1024

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DownloadError(Exception):
    """A download that failed. `permanent`: trying again later will not help."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class _Retry(Exception):
    """A failure worth another try (timeout, dropped connection, 5xx)."""


@dataclass(frozen=True)
class Allowance:
    """A non-public network that may be reached anyway, on one port or any."""

    network: Network
    port: int | None = None

    def allows(self, address: Address, port: int) -> bool:
        return address in self.network and self.port in (None, port)


def parse_allowances(entries: Iterable[str]) -> tuple[Allowance, ...]:
    """Read allowlist entries: `10.0.0.0/8`, `127.0.0.1:8123`, `::1`, `[::1]:8123`."""
    allowances = []
    for entry in entries:
        text, port = entry.strip(), None
        if text.startswith("["):
            text, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":") or None
        elif text.count(":") == 1:
            text, port = text.split(":")
        try:
            allowances.append(
                Allowance(ipaddress.ip_network(text, strict=False), int(port) if port else None)
            )
        except ValueError:
            raise ValueError(f"{entry!r} is not an address, a network or an address:port") from None
    return tuple(allowances)


@dataclass(frozen=True)
class Policy:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    # The whole response, however slowly it trickles in.
    deadline: float = 120.0
    max_bytes: int = 20 * 1024 * 1024
    retries: int = 3
    backoff: float = 2.0
    max_redirects: int = 5
    user_agent: str = "Newsroom/0.1"
    allowlist: tuple[Allowance, ...] = ()


@dataclass(frozen=True)
class Download:
    url: str  # where the bytes came from, after redirects
    data: bytes
    content_type: str


class RateLimiter:
    """Spaces the starts of requests at least 1/rate seconds apart, across threads."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)


class Downloader:
    """Downloads under a policy; safe to share between threads."""

    def __init__(
        self,
        policy: Policy,
        *,
        rate: float = 0,
        sleep: Callable[[float], None] | None = None,
        resolve: Callable[..., list] = socket.getaddrinfo,
    ):
        self.policy = policy
        self._stopped = threading.Event()
        # Waiting (for a turn, before a retry) ends early when stopped.
        self.sleep = sleep or self._stopped.wait
        self.limiter = RateLimiter(rate, sleep=self.sleep)
        self.resolve = resolve
        self._tls: ssl.SSLContext | None = None

    def stop(self) -> None:
        """Start nothing more: downloads waiting or about to retry fail as "stopped"."""
        self._stopped.set()

    def get(self, url: str) -> Download:
        """The body at `url`, or DownloadError with what went wrong."""
        policy = self.policy
        for attempt in range(policy.retries + 1):
            if self._stopped.is_set():
                raise DownloadError("stopped before it was done", permanent=False)
            try:
                return self._follow(url)
            except _Retry as error:
                if attempt == policy.retries:
                    tries = f" (tried {attempt + 1} times)" if attempt else ""
                    raise DownloadError(f"{error}{tries}", permanent=False) from None
                self.sleep(policy.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _follow(self, url: str) -> Download:
        for _ in range(self.policy.max_redirects + 1):
            answer = self._request(url)
            if isinstance(answer, Download):
                return answer
            url = urljoin(url, answer)
        raise DownloadError(f"more than {self.policy.max_redirects} redirects", permanent=True)

    def _request(self, url: str) -> Download | str:
        """The download, or where a redirect points."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise DownloadError(f"refused: {parts.scheme or 'no'} scheme in {url}", permanent=True)
        if not parts.hostname:
            raise DownloadError(f"no host in {url}", permanent=True)
        try:
            host = parts.hostname.encode("idna").decode("ascii")
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except (UnicodeError, ValueError) as error:
            raise DownloadError(f"bad address {url}: {error}", permanent=True) from None
        addresses = self._addresses(host, port)
        target = quote(parts.path or "/", safe=URL_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=URL_SAFE)

        self.limiter.wait()
        if self._stopped.is_set():
            raise DownloadError("stopped before it was done", permanent=False)
        connection = self._connect(parts.scheme, host, port, addresses)
        try:
            connection.request(
                "GET",
                target,
                headers={
                    "User-Agent": self.policy.user_agent,
                    "Accept": "image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8",
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            status = response.status
            if status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                return response.getheader("Location")
            if status >= 500:
                raise _Retry(f"HTTP {status} {response.reason}")
            if status >= 400:
                # 408 and 429 say "not now", not "never": a later run tries again.
                raise DownloadError(
                    f"HTTP {status} {response.reason}", permanent=status not in (408, 429)
                )
            if status != 200:
                raise DownloadError(f"HTTP {status} {response.reason}", permanent=True)
            return Download(url, self._read(response), response.getheader("Content-Type", ""))
        except TimeoutError:
            raise _Retry("timed out") from None
        except (http.client.HTTPException, ConnectionError) as error:
            raise _Retry(f"connection failed: {error or type(error).__name__}") from None
        finally:
            connection.close()

    def _addresses(self, host: str, port: int) -> list[tuple]:
        """Where `host` resolves to; refused if any of it is not a public address."""
        try:
            found = self.resolve(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise DownloadError(
                f"cannot resolve {host}: {error.strerror}", permanent=False
            ) from None
        for *_, sockaddr in found:
            address = ipaddress.ip_address(sockaddr[0].split("%")[0])
            if not self._allowed(address, port):
                raise DownloadError(
                    f"refused: {host} is a non-public address ({address})", permanent=True
                )
        return [(family, sockaddr) for family, _, _, _, sockaddr in found]

    def _allowed(self, address: Address, port: int) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_global and not address.is_multicast:
            return True
        return any(allowance.allows(address, port) for allowance in self.policy.allowlist)

    def _connect(self, scheme, host, port, addresses) -> http.client.HTTPConnection:
        """A connection to one of the checked addresses, not to `host` resolved again."""
        policy = self.policy
        last_error: OSError | None = None
        for family, sockaddr in addresses:
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.settimeout(policy.connect_timeout)
                sock.connect(sockaddr)
                sock.settimeout(policy.read_timeout)
                if scheme == "https":
                    sock = self._tls_context().wrap_socket(sock, server_hostname=host)
            except TimeoutError:
                sock.close()
                raise _Retry(f"could not connect to {host} in time") from None
            except ssl.SSLError as error:
                sock.close()
                raise DownloadError(f"TLS failed with {host}: {error}", permanent=False) from None
            except OSError as error:
                sock.close()
                last_error = error
                continue
            # The class gives the Host header its default port; the socket,
            # already connected (and wrapped), is the one used.
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = kind(host, port, timeout=policy.read_timeout)
            connection.sock = sock
            return connection
        raise _Retry(f"could not connect to {host}: {last_error}")

    def _tls_context(self) -> ssl.SSLContext:
        # Loading the system's certificates takes a while: only when needed.
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        limit = self.policy.max_bytes
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise DownloadError(
                f"{int(length):,} bytes, over the {limit:,}-byte limit", permanent=True
            )
        deadline = time.monotonic() + self.policy.deadline
        chunks, size = [], 0
        while chunk := response.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise DownloadError(f"more than the {limit:,}-byte limit", permanent=True)
            if time.monotonic() > deadline:
                raise _Retry(f"still receiving after {self.policy.deadline:g} s")
            chunks.append(chunk)
        return b"".join(chunks)
