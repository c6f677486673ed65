"""Where a video lives, and how a reader plays it."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

YOUTUBE_ID = re.compile(r"^[\w-]{6,20}$")


@dataclass(frozen=True)
class VideoInfo:
    provider: str  # youtube, facebook, roundme, dailymotion or other
    video_id: str
    start: int | None
    player_url: str  # what to load into the frame once the reader asks
    link_url: str  # the video's page, for a plain link


def describe(url: str) -> VideoInfo:
    """Identify the provider, the video and its start time from an embed address."""
    address = url if "//" in url else f"https://{url}"
    if address.startswith("//"):
        address = f"https:{address}"
    parts = urlsplit(address)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    query = parse_qs(parts.query)
    start = _seconds(query.get("start", query.get("t", [""]))[0])

    if host in ("youtube.com", "youtube-nocookie.com", "youtu.be"):
        if host == "youtu.be":
            video_id = parts.path.strip("/")
        elif parts.path.startswith(("/embed/", "/v/", "/shorts/")):
            video_id = parts.path.split("/")[2]
        else:
            video_id = query.get("v", [""])[0]
        if YOUTUBE_ID.match(video_id):
            params = {"autoplay": 1, **({"start": start} if start else {})}
            link = {"v": video_id, **({"t": f"{start}s"} if start else {})}
            return VideoInfo(
                "youtube",
                video_id,
                start,
                f"https://www.youtube-nocookie.com/embed/{video_id}?{urlencode(params)}",
                f"https://www.youtube.com/watch?{urlencode(link)}",
            )
    if host.endswith("facebook.com"):
        href = query.get("href", [""])[0]
        return VideoInfo("facebook", "", start, _https(address), href or _https(address))
    if host.endswith("roundme.com"):
        return VideoInfo("roundme", "", start, _https(address), _https(address))
    if host.endswith("dailymotion.com") or host == "dai.ly":
        video_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
        return VideoInfo(
            "dailymotion",
            video_id,
            start,
            f"https://www.dailymotion.com/embed/video/{video_id}?autoplay=1",
            f"https://www.dailymotion.com/video/{video_id}",
        )
    return VideoInfo("other", "", start, _https(address), _https(address))


def _https(address: str) -> str:
    return re.sub(r"^http://", "https://", address)


def _seconds(value: str) -> int | None:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s?", value or "")
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds or None
