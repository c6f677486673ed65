import socket

import pytest

from articles.downloads import (
    Downloader,
    DownloadError,
    Policy,
    RateLimiter,
    parse_allowances,
)

from . import imagefiles
from .factories import archived_path


def policy_for(server, **values) -> Policy:
    values.setdefault("allowlist", parse_allowances([f"127.0.0.1:{server.port}"]))
    values.setdefault("read_timeout", 0.3)
    values.setdefault("connect_timeout", 2)
    values.setdefault("retries", 2)
    values.setdefault("backoff", 0)
    values.setdefault("max_bytes", 100_000)
    return Policy(**values)


def downloader_for(server, **values) -> Downloader:
    return Downloader(policy_for(server, **values))


def failure(downloader: Downloader, url: str) -> DownloadError:
    with pytest.raises(DownloadError) as failed:
        downloader.get(url)
    return failed.value


def test_download_returns_the_body_and_sends_a_user_agent(image_server):
    body = imagefiles.jpeg()
    url = image_server.add("/a.jpg", body=body)
    download = downloader_for(image_server, user_agent="Newsroom/test").get(url)
    assert download.data == body
    assert download.content_type == "image/jpeg"
    assert image_server.routes["/a.jpg"].headers[0]["User-Agent"] == "Newsroom/test"


def test_chinese_and_spaces_in_an_archived_address_are_sent_as_utf8(image_server):
    path = archived_path("拜登-美國總統 1 large.jpg")
    image_server.add(path, body=b"x")
    # As the archive writes it: Chinese as it is, one space encoded, one not.
    url = f"http://127.0.0.1:{image_server.port}" + path.replace(" large", "%20large")
    assert downloader_for(image_server).get(url).data == b"x"
    assert image_server.hits[path] == 1


def test_loopback_is_refused_when_not_on_the_allowlist(image_server):
    url = image_server.add("/a.jpg", body=b"x")
    error = failure(downloader_for(image_server, allowlist=()), url)
    assert error.permanent
    assert "refused: 127.0.0.1 is a non-public address (127.0.0.1)" in str(error)
    assert image_server.hits["/a.jpg"] == 0


def test_the_allowlist_is_for_one_port_not_every_service_on_the_machine(image_server):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other_port = other.getsockname()[1]
        url = image_server.add("/a.jpg", location=f"http://127.0.0.1:{other_port}/admin")
        error = failure(downloader_for(image_server), url)
    assert error.permanent and "non-public address" in str(error)


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.5/a.jpg",
        "http://192.168.1.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.jpg",
        "http://[::ffff:127.0.0.1]/a.jpg",
        "http://0.0.0.0/a.jpg",
        "https://100.64.0.1/a.jpg",
    ],
)
def test_redirect_to_a_private_address_is_refused(image_server, target):
    url = image_server.add("/a.jpg", location=target)
    error = failure(downloader_for(image_server), url)
    assert error.permanent
    assert "non-public address" in str(error)
    assert image_server.hits["/a.jpg"] == 1


def test_a_name_that_resolves_to_a_private_address_is_refused(image_server):
    def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    downloader = Downloader(policy_for(image_server), resolve=resolve)
    error = failure(downloader, "https://images.example.com/a.jpg")
    assert "refused: images.example.com is a non-public address (10.1.2.3)" in str(error)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://x/"])
def test_redirect_to_another_scheme_is_refused(image_server, target):
    url = image_server.add("/a.jpg", location=target)
    error = failure(downloader_for(image_server), url)
    assert error.permanent and "refused:" in str(error) and "scheme" in str(error)


def test_redirects_within_allowed_addresses_are_followed(image_server):
    image_server.add("/web/2022im_/a.jpg", location="/web/2021im_/a.jpg")
    image_server.add("/web/2021im_/a.jpg", body=b"image")
    download = downloader_for(image_server).get(image_server.url("/web/2022im_/a.jpg"))
    assert download.data == b"image"
    assert download.url.endswith("/web/2021im_/a.jpg")


def test_a_redirect_loop_ends(image_server):
    url = image_server.add("/loop", location="/loop")
    error = failure(downloader_for(image_server, max_redirects=3), url)
    assert error.permanent and "more than 3 redirects" in str(error)
    assert image_server.hits["/loop"] == 4


def test_a_404_is_not_retried(image_server):
    error = failure(downloader_for(image_server), image_server.url("/missing.jpg"))
    assert str(error) == "HTTP 404 Not Found"
    assert error.permanent
    assert image_server.hits["/missing.jpg"] == 1


def test_a_500_is_retried_and_recovers(image_server):
    url = image_server.add("/flaky.jpg", body=b"image", fail_times=1)
    assert downloader_for(image_server).get(url).data == b"image"
    assert image_server.hits["/flaky.jpg"] == 2


def test_a_lasting_500_fails_after_the_retries_and_may_be_tried_another_day(image_server):
    url = image_server.add("/down.jpg", fail_times=100)
    error = failure(downloader_for(image_server, retries=2), url)
    assert str(error) == "HTTP 500 Internal Server Error (tried 3 times)"
    assert not error.permanent
    assert image_server.hits["/down.jpg"] == 3


def test_a_response_slower_than_the_read_timeout_is_retried_then_fails(image_server):
    url = image_server.add("/slow.jpg", body=b"image", delay=5)
    error = failure(downloader_for(image_server, retries=1), url)
    assert str(error) == "timed out (tried 2 times)"
    assert not error.permanent
    assert image_server.hits["/slow.jpg"] == 2


def test_back_off_doubles_between_tries(image_server):
    url = image_server.add("/down.jpg", fail_times=100)
    slept = []
    downloader = Downloader(policy_for(image_server, retries=3, backoff=1.5), sleep=slept.append)
    failure(downloader, url)
    assert slept == [1.5, 3.0, 6.0]


def test_a_declared_length_over_the_cap_is_refused_unread(image_server):
    url = image_server.add("/huge.jpg", body=b"x" * 200_000)
    error = failure(downloader_for(image_server, max_bytes=100_000), url)
    assert str(error) == "200,000 bytes, over the 100,000-byte limit"
    assert error.permanent


def test_an_undeclared_body_over_the_cap_is_cut_off(image_server):
    url = image_server.add("/huge.jpg", body=b"x" * 200_000, send_length=False)
    error = failure(downloader_for(image_server, max_bytes=100_000), url)
    assert str(error) == "more than the 100,000-byte limit"


def test_the_rate_limit_spaces_requests_apart():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [0.25, 0.5]
    now[0] += 10
    limiter.wait()
    assert slept == [0.25, 0.5]


def test_no_rate_limit_never_waits():
    slept = []
    limiter = RateLimiter(0, sleep=slept.append)
    for _ in range(5):
        limiter.wait()
    assert slept == []


def test_allowlist_entries_are_addresses_networks_and_ports():
    allowances = parse_allowances(["127.0.0.1:8123", "10.0.0.0/8", "::1", "[::1]:9000"])
    assert [(str(a.network), a.port) for a in allowances] == [
        ("127.0.0.1/32", 8123),
        ("10.0.0.0/8", None),
        ("::1/128", None),
        ("::1/128", 9000),
    ]
    with pytest.raises(ValueError, match="'localhost' is not an address"):
        parse_allowances(["localhost"])


def test_a_stopped_downloader_starts_nothing_more(image_server):
    url = image_server.add("/a.jpg", body=b"x")
    downloader = downloader_for(image_server)
    downloader.stop()
    error = failure(downloader, url)
    assert str(error) == "stopped before it was done" and not error.permanent
    assert image_server.hits["/a.jpg"] == 0
