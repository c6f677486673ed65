"""JSON reports of a command's results (`import_seeds --report`, `fetch_figures
--report`), written as the results come so that a long run keeps little in memory."""

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Protocol


class Result(Protocol):
    status: str

    def as_dict(self) -> dict: ...


def stream_json[R: Result](
    report_file: IO[str], results: Iterable[R], *, items: str, statuses: Iterable[str]
) -> Iterator[R]:
    """Write `{"<items>": [...], "totals": {...}}` while passing the results on;
    the totals, one per status, come last."""
    counts = Counter()
    report_file.write(f'{{"{items}": [')
    for n, result in enumerate(results):
        counts[result.status] += 1
        report_file.write(
            ("," if n else "") + "\n  " + json.dumps(result.as_dict(), ensure_ascii=False)
        )
        yield result
    totals = {status: counts[status] for status in statuses}
    report_file.write('\n], "totals": ' + json.dumps(totals) + "}\n")
