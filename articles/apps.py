from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "文章"

    def ready(self):
        from . import signals  # noqa: F401  (connects the figure-file receivers)
        from .caching import connect_signals

        connect_signals()
