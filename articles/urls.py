from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("article/<int:number>/<str:slug>/", views.ArticleDetailView.as_view(), name="article"),
    # Any other address of an article — no slug, an old or lost one, the
    # original site's two-part paths — is redirected to the one above.
    re_path(r"^article/(?P<number>\d+)(?:/.*)?$", views.ArticleDetailView.as_view()),
    path("section/<str:slug>/", views.SectionView.as_view(), name="section"),
    path("tag/<str:slug>/", views.TagView.as_view(), name="tag"),
    path("author/<str:slug>/", views.AuthorView.as_view(), name="author"),
    path("archive/undated/", views.UndatedView.as_view(), name="undated"),
    path("archive/<int:year>/", views.DateArchiveView.as_view(), name="year"),
    path("archive/<int:year>/<int:month>/", views.DateArchiveView.as_view(), name="month"),
    path(
        "archive/<int:year>/<int:month>/<int:day>/",
        views.DateArchiveView.as_view(),
        name="day",
    ),
]
