import time
from contextlib import closing
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.fetching import (
    STATUSES,
    figures_to_fetch,
    iter_fetch,
    policy_from_settings,
    write_report,
)
from articles.management.commands.import_seeds import Progress
from articles.models import Article


class Command(BaseCommand):
    help = "Download the archived image of every figure that has no local image yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "numbers",
            nargs="*",
            type=int,
            metavar="NUMBER",
            help="Only the figures of these articles (by article number).",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Also try figures whose image could not be fetched before (404, not an image…).",
        )
        parser.add_argument(
            "--report", type=Path, metavar="FILE", help="Also write the results as JSON to FILE."
        )
        parser.add_argument(
            "--workers", type=int, help="Downloads at once (default: NEWSROOM_FETCH_WORKERS)."
        )
        parser.add_argument(
            "--rate",
            type=float,
            help="Requests per second, all downloads together (default: NEWSROOM_FETCH_RATE; "
            "0: no limit).",
        )

    def handle(self, *args, numbers, retry_failed, report, workers, rate, verbosity, **options):
        try:
            policy_from_settings()
        except ValueError as error:
            raise CommandError(f"NEWSROOM_FETCH_PRIVATE_ALLOWLIST: {error}") from None
        if numbers:
            known = set(Article.objects.filter(number__in=numbers).values_list("number", flat=True))
            unknown = sorted(set(numbers) - known)
            if unknown:
                raise CommandError(f"no article numbered {', '.join(map(str, unknown))}")
        figures = figures_to_fetch(numbers, retry_failed=retry_failed)
        passed_by = (
            0
            if retry_failed
            else figures_to_fetch(numbers, retry_failed=True).exclude(fetch_error="").count()
        )
        progress = Progress(self.stderr) if verbosity >= 1 and self.stderr.isatty() else None
        counts = dict.fromkeys(STATUSES, 0)
        downloaded = 0
        started = time.monotonic()
        report_file = report.open("w", encoding="utf-8") if report else None
        try:
            with closing(iter_fetch(figures, workers=workers, rate=rate, progress=progress)) as run:
                results = write_report(report_file, run) if report_file else run
                for result in results:
                    counts[result.status] += 1
                    downloaded += result.bytes
                    where = f"article {result.article} figure {result.position}: {result.url}"
                    if progress and (verbosity >= 2 or result.status != "fetched"):
                        progress.clear()
                    if result.status == "failed":
                        self.stderr.write(f"{where}: error: {result.message}")
                    elif result.message and verbosity >= 1:
                        self.stderr.write(f"{where}: warning: {result.message}")
                    if verbosity >= 2:
                        size = f" ({result.width}×{result.height})" if result.width else ""
                        self.stdout.write(f"{result.status}: {where}{size}")
        finally:
            if report_file:
                report_file.close()
            if progress:
                progress.clear()
        seconds = time.monotonic() - started
        total = sum(counts.values())
        if verbosity >= 1:
            summary = ", ".join(f"{counts[status]} {status}" for status in STATUSES)
            rate = total / seconds if seconds else 0
            self.stdout.write(
                f"{total} figures in {seconds:.1f} s ({rate:.1f}/s): {summary}; "
                f"{downloaded / 1_000_000:.1f} MB downloaded"
            )
            if passed_by:
                self.stdout.write(
                    f"{passed_by} figures that failed before were not tried again "
                    "(--retry-failed tries them)"
                )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} of {total} figures failed", returncode=1)
