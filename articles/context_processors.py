from django.conf import settings

from .caching import remember_for, taxonomy_version
from .models import Section


def site(request):
    """The sections for the site's navigation, looked up once per change to sections.

    Given as a callable, so that pages that do not show the navigation (the
    admin's) do not pay for it.
    """

    def sections():
        return remember_for(
            f"newsroom:sections:{taxonomy_version()}",
            lambda: list(Section.objects.all()),
            settings.ARTICLE_CACHE_SECONDS,
        )

    return {"site_sections": sections}
