"""Queued work in the production configuration: written with the change, run by
the worker (`manage.py db_worker`) once the change is committed."""

import json
from types import SimpleNamespace

from articles import tasks

from .services import manage

MERGE_AND_SEARCH = """
import json
from articles.models import Article, Tag
from articles.tagging import merge_tags
merge_tags(keep=Tag.objects.get(name="北約"), tags=list(Tag.objects.filter(name__in=["北約", "NATO"])))
print(json.dumps(sorted(Article.objects.search("北約").values_list("number", flat=True))))
"""
SEARCH = """
import json
from articles.models import Article
print(json.dumps(sorted(Article.objects.search("北約").values_list("number", flat=True))))
"""


def test_a_merge_queues_the_reindex_and_the_worker_runs_it(tmp_path, seeds_dir):
    from .seedfiles import write_seed

    write_seed(seeds_dir, "1.txt", number=1, tags=["北約"])
    write_seed(seeds_dir, "2.txt", number=2, tags=["NATO", "香港"])
    environment = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TASKS_BACKEND": "database",
    }
    manage("migrate", "-v0", environment=environment)
    manage("import_seeds", str(seeds_dir), "-v0", environment=environment)

    merged = manage("shell", "-v0", "-c", MERGE_AND_SEARCH, environment=environment)
    # The merge is done, its search documents not yet: the reindex is queued.
    assert json.loads(merged.stdout) == [1]
    worked = manage(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", environment=environment
    )
    assert worked.returncode == 0
    searched = manage("shell", "-v0", "-c", SEARCH, environment=environment)
    assert json.loads(searched.stdout) == [1, 2]


def test_reindexing_is_queued_in_chunks(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "reindex_articles", SimpleNamespace(enqueue=queued.append))
    tasks.reindex_later([5, 3, 3, *range(10, 10 + tasks.CHUNK)])
    assert [len(chunk) for chunk in queued] == [tasks.CHUNK, 2]
    assert queued[0][:3] == [3, 5, 10]
