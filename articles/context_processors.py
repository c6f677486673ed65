from .caching import remember
from .models import Section


def site(request):
    """The sections for the site's navigation, built once per content version.

    Given as a callable, so that pages that do not show the navigation (the
    admin's) do not pay for it.
    """

    def sections():
        return remember("sections", lambda: list(Section.objects.all()))

    return {"site_sections": sections}
