from pathlib import Path

import pytest
from django.core.cache import cache

pytest_plugins = ["tests.browser", "tests.imageserver", "tests.services"]

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_8372918e7152907c.txt"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no cached pages."""
    cache.clear()


@pytest.fixture
def seeds_dir(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


@pytest.fixture
def sample() -> Path:
    return SAMPLE
