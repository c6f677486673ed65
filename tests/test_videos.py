import pytest

from articles.videos import describe
from articles.wayback import unwrap_archive_url


@pytest.mark.parametrize(
    ("archived", "original"),
    [
        ("https://web.archive.org/web/20220118160222im_/https://www.hkcnews.com/a.jpg",
         "https://www.hkcnews.com/a.jpg"),
        ("//web.archive.org/web/20210101000000if_/https://www.youtube.com/embed/abcdefghijk",
         "https://www.youtube.com/embed/abcdefghijk"),
        ("https://web.archive.org/web/20210101000000/http:/hkcnews.com/x", "http://hkcnews.com/x"),
        ("https://example.com/not-archived.jpg", "https://example.com/not-archived.jpg"),
    ],
)  # fmt: skip
def test_unwrap_archive_url(archived, original):
    assert unwrap_archive_url(archived) == original


def test_youtube_plays_from_nocookie_domain_with_start_time():
    info = describe("https://www.youtube.com/embed/aBcDeFgHiJk?start=133")
    assert info.provider == "youtube"
    assert info.video_id == "aBcDeFgHiJk"
    assert info.start == 133
    assert info.player_url.startswith("https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?")
    assert "start=133" in info.player_url
    assert info.link_url == "https://www.youtube.com/watch?v=aBcDeFgHiJk&t=133s"


def test_facebook_video_links_to_the_video_page():
    href = "https%3A%2F%2Fwww.facebook.com%2Fhkcnews%2Fvideos%2F123%2F"
    info = describe(f"https://www.facebook.com/plugins/video.php?href={href}")
    assert info.provider == "facebook"
    assert info.link_url == "https://www.facebook.com/hkcnews/videos/123/"


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://roundme.com/embed/12345/67890", "roundme"),
        ("https://www.dailymotion.com/embed/video/x7tgad0", "dailymotion"),
        ("https://player.vimeo.com/video/1", "other"),
        ("http://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube"),
    ],
)
def test_providers(url, provider):
    assert describe(url).provider == provider
