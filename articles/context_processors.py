from .caching import remember
from .models import Section


def site(request):
    """The sections for the site's navigation, built once per content version."""
    return {"site_sections": remember("sections", lambda: list(Section.objects.all()))}
