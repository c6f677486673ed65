"""
WSGI config for newsroom project.

It exposes the WSGI callable as a module-level variable named ``application``:
Django's handler, with the page cache in front of it, which answers readers'
plain GETs of cached pages before Django handles them
(`articles.caching.PageCacheApplication`).

For more information on this file, see
https://docs.djangoproject.com/en/6.1/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

django_application = get_wsgi_application()

from articles.caching import PageCacheApplication  # noqa: E402 (needs the apps loaded)

application = PageCacheApplication(django_application)
