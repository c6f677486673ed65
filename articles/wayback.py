"""Addresses inside the Wayback Machine."""

import re

WAYBACK = re.compile(r"^(?:https?:)?//web\.archive\.org/web/\d+(?:[a-z]{2}_)?/(?P<url>.+)$")


def unwrap_archive_url(url: str) -> str:
    """The original address inside a Wayback Machine address (or the address itself).

    Seeds show images as `.../web/<timestamp>im_/<image url>` and embed videos as
    `.../web/<timestamp>if_/<embed url>`.
    """
    match = WAYBACK.match(url.strip())
    if not match:
        return url.strip()
    # The Wayback Machine sometimes collapses the two slashes after the scheme.
    return re.sub(r"^(https?):/(?!/)", r"\1://", match.group("url"))
