from pathlib import Path

import pytest

pytest_plugins = ["tests.browser"]

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_8372918e7152907c.txt"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeds_dir(tmp_path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


@pytest.fixture
def sample() -> Path:
    return SAMPLE


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Logging in users (admin_client, the admin tests' editors) would otherwise
    # spend a second a test on deliberately slow password hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
