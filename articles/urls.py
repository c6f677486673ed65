from django.urls import path, re_path

from . import views

urlpatterns = [
    path("article/<int:number>/<str:slug>/", views.ArticleDetailView.as_view(), name="article"),
    # Any other address of an article — no slug, an old or lost one, the
    # original site's two-part paths — is redirected to the one above.
    re_path(r"^article/(?P<number>\d+)(?:/.*)?$", views.ArticleDetailView.as_view()),
]
