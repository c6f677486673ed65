import os
from pathlib import Path

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.browser", "tests.imageserver", "tests.services"]

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_8372918e7152907c.txt"

# Property tests: a bounded number of examples, no per-example deadline (the
# shared 2-core machine is too noisy for one), and derandomized so that every
# run tries the same examples. HYPOTHESIS_PROFILE=deep searches far longer,
# with fresh random examples each time.
hypothesis_settings.register_profile(
    "suite",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "deep",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


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
