import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from articles.exporter import iter_export, other_seed_files

from .import_seeds import Progress


class Command(BaseCommand):
    help = "Write every article back as a seed file (Markdown with YAML front matter)."

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", type=Path, help="Folder to write the seed files to (made if missing)."
        )
        parser.add_argument(
            "--site-url",
            metavar="URL",
            help=(
                "This site's address, for the original_url of articles written here rather "
                "than imported (default: https:// and the first of ALLOWED_HOSTS)."
            ),
        )

    def handle(self, *args, directory, site_url, verbosity, **options):
        if site_url and not (
            urlsplit(site_url).scheme in ("http", "https") and urlsplit(site_url).netloc
        ):
            raise CommandError(f"--site-url must be an http(s) address, not {site_url!r}")
        progress = Progress(self.stderr) if verbosity >= 1 and self.stderr.isatty() else None
        counts = Counter()
        written: set[str] = set()
        started = time.monotonic()
        try:
            for result in iter_export(directory, site_url=site_url, progress=progress):
                written.add(result.path)
                counts[result.status] += 1
                counts["not published"] += not result.published
                if progress and (verbosity >= 2 or result.warnings):
                    progress.clear()
                if verbosity >= 2:
                    self.stdout.write(f"{result.status}: {result.path} ({result.number})")
                if verbosity >= 1:
                    for warning in result.warnings:
                        self.stderr.write(f"{result.path}: warning: {warning}")
        except OSError as error:
            raise CommandError(f"{error.filename or directory}: {error.strerror}") from None
        finally:
            if progress:
                progress.clear()
        seconds = time.monotonic() - started
        others = other_seed_files(directory, written)
        if others and verbosity >= 1:
            self.stderr.write(
                f"{directory}: warning: {len(others)} other seed files are in the folder "
                f"(such as {others[0]}); a re-import of the folder would read them too"
            )
        if verbosity >= 1:
            rate = len(written) / seconds if seconds else 0
            summary = f"{counts['written']} written, {counts['unchanged']} unchanged"
            if counts["not published"]:
                summary += (
                    f"; {counts['not published']} not published (a seed file has no status:"
                    " a re-import publishes them)"
                )
            self.stdout.write(
                f"{len(written)} articles in {seconds:.1f} s ({rate:.0f}/s): {summary}"
            )
