from storages.backends.s3 import S3Storage

from newsroom.settings import media_storage


def test_media_goes_to_the_media_folder_by_default():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_in_the_environment_puts_media_on_s3_compatible_storage():
    storage = media_storage(
        {
            "AWS_STORAGE_BUCKET_NAME": "newsroom-media",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.net",
            "AWS_S3_REGION_NAME": "ap-east-1",
            "AWS_S3_CUSTOM_DOMAIN": "media.example.org",
        }
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "newsroom-media"
    assert options["endpoint_url"] == "https://s3.example.net"
    assert options["region_name"] == "ap-east-1"
    # Never replace a stored file under its address: it may be cached for good.
    assert options["file_overwrite"] is False


def test_s3_storage_accepts_the_options_and_makes_plain_public_addresses():
    options = media_storage(
        {"AWS_STORAGE_BUCKET_NAME": "newsroom-media", "AWS_S3_CUSTOM_DOMAIN": "media.example.org"}
    )["OPTIONS"]
    storage = S3Storage(**options)
    url = storage.url("figures/2026/11/0123456789abcdef-480w.webp")
    assert url == "https://media.example.org/figures/2026/11/0123456789abcdef-480w.webp"
    assert storage.object_parameters["CacheControl"] == "public, max-age=31536000, immutable"
