from django.conf import settings
from django.conf.urls.static import static as serve_media
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconView.as_view()),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("", include("articles.urls")),
]
urlpatterns += serve_media(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler500 = "newsroom.errors.server_error"
