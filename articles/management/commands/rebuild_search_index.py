import time

from django.core.management.base import BaseCommand

from articles import search


class Command(BaseCommand):
    help = (
        "Rebuild every article's search document: after a change to the search rules "
        "(articles/search.py), an upgrade of OpenCC, or changes written around the ORM."
    )

    def handle(self, *args, verbosity, **options):
        started = time.monotonic()
        count = search.rebuild_index()
        if verbosity >= 1:
            seconds = time.monotonic() - started
            self.stdout.write(f"{count} articles indexed in {seconds:.1f} s")
