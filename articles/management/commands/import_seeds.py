import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles.importer import STATUSES, discover, iter_import, write_report


class Command(BaseCommand):
    help = "Import seed files (Markdown with YAML front matter) into articles."

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help="Seed files or folders, read recursively (default: seeds/).",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace articles that an editor changed since they were imported.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Do everything but commit to the database."
        )
        parser.add_argument(
            "--report", type=Path, metavar="FILE", help="Also write the results as JSON to FILE."
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="Processes that parse and render (default: one per core; 0 parses in this one).",
        )

    def handle(self, *args, paths, overwrite, dry_run, report, workers, verbosity, **options):
        try:
            files = discover(paths or [settings.BASE_DIR / "seeds"])
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
        progress = Progress(self.stderr) if verbosity >= 1 and self.stderr.isatty() else None
        results = iter_import(
            files,
            overwrite=overwrite,
            dry_run=dry_run,
            workers=workers,
            progress=progress,
            waiting=self._waiting if verbosity >= 1 else None,
        )
        counts = dict.fromkeys(STATUSES, 0)
        started = time.monotonic()
        report_file = report.open("w", encoding="utf-8") if report else None
        try:
            if report_file:
                results = write_report(report_file, results)
            for result in results:
                counts[result.status] += 1
                if progress and (verbosity >= 2 or result.messages):
                    progress.clear()
                if verbosity >= 2:
                    number = f" ({result.number})" if result.number else ""
                    self.stdout.write(f"{result.status}: {result.path}{number}")
                for message in result.messages:
                    if message.level == "error" or verbosity >= 1:
                        self.stderr.write(
                            f"{result.path}:{message.line}: {message.level}: {message.text}"
                        )
        finally:
            if report_file:
                report_file.close()
            if progress:
                progress.clear()
        seconds = time.monotonic() - started
        if verbosity >= 1:
            summary = ", ".join(f"{counts[status]} {status}" for status in STATUSES)
            rate = len(files) / seconds if seconds else 0
            dry = " (dry run: nothing was saved)" if dry_run else ""
            self.stdout.write(
                f"{len(files)} files in {seconds:.1f} s ({rate:.0f}/s): {summary}{dry}"
            )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} of {len(files)} files failed", returncode=1)

    def _waiting(self):
        self.stderr.write("Another import is writing to this database; waiting for it to finish.")


class Progress:
    """A one-line progress bar, redrawn at most ten times a second."""

    width = 30

    def __init__(self, stream):
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.drawn < 0.1:
            return
        self.drawn = now
        filled = self.width * done // max(total, 1)
        rate = done / max(now - self.started, 1e-9)
        line = f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {rate:.0f}/s"
        self.stream.write(line, ending="")
        self.stream.flush()

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K", ending="")
            self.stream.flush()
