from django.shortcuts import get_object_or_404, redirect
from django.utils.encoding import uri_to_iri
from django.views.generic import DetailView

from .models import Article


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            Article.objects.published()
            .select_related("section")
            .prefetch_related("authors", "tags", "figures", "videos"),
            number=self.kwargs["number"],
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if request.path != uri_to_iri(self.object.get_absolute_url()):
            # Old links (lost slugs included) land on the canonical address.
            return redirect(self.object, permanent=True)
        context = self.get_context_data(object=self.object, parts=self.object.body_parts())
        return self.render_to_response(context)
