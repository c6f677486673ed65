"""Copy the archived image of each figure into the site's own storage.

A figure's `image_url` is its picture on the Wayback Machine. `iter_fetch`
downloads it (`downloads.Downloader`: timeouts, size cap, retries, no private
addresses, a rate limit), checks and cleans it and makes its renditions
(`images.process`), stores the files, and records them on the figure. A pool of
threads downloads and processes; this thread alone writes to the database.

Running it again continues where it stopped: only figures without a local image
are chosen, and a figure is recorded only if it still has none and still points
at the address that was downloaded (an editor may have uploaded a picture in
the meantime). A failure is reported and the figure keeps its archived address,
so its page still shows the picture from the archive. Failures that another try
will not mend (a 404, not an image, too big) are remembered in
`Figure.fetch_error`, and later runs pass those figures by unless asked to
retry them.
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from . import images, reports
from .caching import content_changed
from .downloads import Downloader, DownloadError, Policy, parse_allowances
from .models import Article, Figure

STATUSES = ("fetched", "failed", "skipped")
PAGE_SIZE = 200


@dataclass
class FigureResult:
    figure: int
    article: int
    position: int
    url: str
    status: str
    message: str = ""
    width: int | None = None
    height: int | None = None
    bytes: int = 0  # downloaded

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Outcome:
    figure: Figure
    stored: list[str]
    size: int = 0
    error: str = ""
    permanent: bool = False


def policy_from_settings() -> Policy:
    return Policy(
        connect_timeout=settings.NEWSROOM_FETCH_CONNECT_TIMEOUT,
        read_timeout=settings.NEWSROOM_FETCH_READ_TIMEOUT,
        max_bytes=settings.NEWSROOM_IMAGE_MAX_BYTES,
        retries=settings.NEWSROOM_FETCH_RETRIES,
        backoff=settings.NEWSROOM_FETCH_BACKOFF,
        user_agent=settings.NEWSROOM_FETCH_USER_AGENT,
        allowlist=parse_allowances(settings.NEWSROOM_FETCH_PRIVATE_ALLOWLIST),
    )


def figures_to_fetch(numbers: Iterable[int] = (), *, retry_failed: bool = False) -> QuerySet:
    """Figures with an archived address and no local image (of these articles, if given).

    Figures whose last failure was permanent are left out unless `retry_failed`.
    """
    figures = Figure.objects.filter(image="").exclude(image_url="")
    if not retry_failed:
        figures = figures.filter(fetch_error="")
    numbers = list(numbers)
    if numbers:
        figures = figures.filter(article__number__in=numbers)
    return figures


def iter_fetch(
    figures: QuerySet,
    *,
    workers: int | None = None,
    rate: float | None = None,
    downloader: Downloader | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[FigureResult]:
    """Fetch the images of these figures, yielding one result per figure as it is decided.

    workers: downloads at once (NEWSROOM_FETCH_WORKERS).
    rate: requests per second across all of them (NEWSROOM_FETCH_RATE; 0: no limit).
    """
    workers = workers or settings.NEWSROOM_FETCH_WORKERS
    if downloader is None:
        rate = settings.NEWSROOM_FETCH_RATE if rate is None else rate
        downloader = Downloader(policy_from_settings(), rate=rate)
    total = figures.count()
    # closing(): an exception here (an interrupt) ends the downloads at once.
    fetched = 0
    try:
        with closing(_results(figures, downloader, workers)) as results:
            for done, result in enumerate(results, start=1):
                if progress:
                    progress(done, total)
                if result.status == "fetched":
                    fetched += 1
                    if fetched % PAGE_SIZE == 0:
                        content_changed(links=False)  # readers see the new copies as they come
                yield result
    finally:
        if fetched % PAGE_SIZE:
            content_changed(links=False)


def _results(figures: QuerySet, downloader: Downloader, workers: int) -> Iterator[FigureResult]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        running: set[Future] = set()
        pages = _in_pages(figures)
        try:
            while True:
                # A window of work in flight keeps memory flat however many figures.
                for figure in pages:
                    running.add(pool.submit(_fetch, downloader, figure))
                    if len(running) >= 2 * workers:
                        break
                if not running:
                    return
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield _record(future.result())
        finally:
            # Interrupted: what was already downloaded is kept, so that the
            # next run need not download it again; the rest is dropped.
            downloader.stop()
            for future in running:
                future.cancel()
            for future in running:
                if not future.cancelled() and future.exception() is None:
                    _record(future.result())


def _in_pages(figures: QuerySet) -> Iterator[Figure]:
    """The figures in order of id, a page at a time (the rows change as they are fetched)."""
    figures = figures.select_related("article").only(
        "id", "position", "image_url", "image", "width", "height", "article__number"
    )
    last = 0
    while True:
        page = list(figures.filter(pk__gt=last).order_by("pk")[:PAGE_SIZE])
        yield from page
        if len(page) < PAGE_SIZE:
            return
        last = page[-1].pk


def _fetch(downloader: Downloader, figure: Figure) -> _Outcome:
    """Download, process and store one figure's image (in a worker thread; no database)."""
    try:
        download = downloader.get(figure.image_url)
        processed = images.process(download.data)
        stored = images.save_image(figure, processed)
    except DownloadError as error:
        return _Outcome(figure, [], error=str(error), permanent=error.permanent)
    except images.ImageRejected as error:
        return _Outcome(figure, [], error=str(error), permanent=True)
    except OSError as error:
        return _Outcome(figure, [], error=f"could not store the image: {error}")
    return _Outcome(figure, stored, size=len(download.data))


def _record(outcome: _Outcome) -> FigureResult:
    figure = outcome.figure
    result = FigureResult(
        figure=figure.pk,
        article=figure.article.number,
        position=figure.position,
        url=figure.image_url,
        status="failed",
        message=outcome.error,
        bytes=outcome.size,
    )
    if outcome.error:
        # Remembered only if another try would not help; a passing failure
        # also clears an earlier permanent one, so that the next run tries.
        limit = Figure._meta.get_field("fetch_error").max_length
        Figure.objects.filter(pk=figure.pk).update(
            fetch_error=outcome.error[:limit] if outcome.permanent else ""
        )
        return result
    # Only if no one gave the figure a picture or a new address meanwhile.
    recorded = Figure.objects.filter(pk=figure.pk, image="", image_url=figure.image_url).update(
        image=figure.image.name,
        width=figure.width,
        height=figure.height,
        renditions=figure.renditions,
        fetch_error="",
    )
    if not recorded:
        images.delete_files(outcome.stored, figure.image.storage)
        result.status = "skipped"
        result.message = "the figure changed while its image was being fetched"
        return result
    # The article's page now offers its own copies: its change time moves
    # (Last-Modified, cached fragments), though no one edited it.
    Article.objects.filter(pk=figure.article_id).update(modified_at=timezone.now())
    result.status = "fetched"
    result.width, result.height = figure.width, figure.height
    return result


def write_report(report_file, results: Iterable[FigureResult]) -> Iterator[FigureResult]:
    """Stream results into a JSON report while passing them on; totals come last."""
    return reports.stream_json(report_file, results, items="figures", statuses=STATUSES)
