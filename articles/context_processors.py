from django.conf import settings

from .caching import remember_for, taxonomy_version


def site(request):
    """What every public page's frame needs: the sections for the navigation, and
    the version and lifetime of cached fragments (`{% cache %}` in templates).

    Given as callables, so that pages that do not show them (the admin's) do not
    pay for them.
    """
    from .models import Section

    def sections():
        return remember_for(
            f"newsroom:sections:{taxonomy_version()}",
            lambda: list(Section.objects.all()),
            settings.ARTICLE_CACHE_SECONDS,
        )

    return {
        "site_sections": sections,
        "site_version": taxonomy_version,
        "fragment_seconds": settings.ARTICLE_CACHE_SECONDS,
    }
