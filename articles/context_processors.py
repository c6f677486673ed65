from django.conf import settings

from .caching import taxonomy_version


def site(request):
    """What every public page's frame needs: the sections for the navigation, and
    the version and lifetime of cached fragments (`{% cache %}` in templates).

    Given as callables, so that pages that do not show them (the admin's) do not
    pay for them; the navigation is a fragment kept per taxonomy version, so the
    sections are read only when it is rendered again.
    """
    from .models import Section

    return {
        "site_sections": Section.objects.all,
        "site_version": taxonomy_version,
        "fragment_seconds": settings.ARTICLE_CACHE_SECONDS,
    }
