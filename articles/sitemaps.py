"""Sitemaps of every article, section, tag and author page."""

from django.contrib.sitemaps import Sitemap

from .models import Article, Author, Section, Tag


class ArticleSitemap(Sitemap):
    limit = 5000
    changefreq = "yearly"

    def items(self):
        return Article.objects.published().only("number", "slug", "modified_at").order_by("number")

    def lastmod(self, item):
        return item.modified_at


class SectionSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Section.objects.only("slug").order_by("pk")


class TagSitemap(Sitemap):
    limit = 5000
    changefreq = "monthly"

    def items(self):
        return Tag.objects.only("slug").order_by("pk")


class AuthorSitemap(Sitemap):
    limit = 5000
    changefreq = "monthly"

    def items(self):
        return Author.objects.only("slug").order_by("pk")


SITEMAPS = {
    "articles": ArticleSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}
