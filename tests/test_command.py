import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.models import Article

from .seedfiles import write_seed

pytestmark = pytest.mark.django_db


def run(*args, verbosity=1):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_seeds", *map(str, args), verbosity=verbosity, stdout=out, stderr=err)
        error = None
    except CommandError as raised:
        error = raised
    return out.getvalue(), err.getvalue(), error


@pytest.fixture
def mixed(seeds_dir):
    write_seed(seeds_dir, "1.txt", number=1, title="好\x03標題")
    write_seed(seeds_dir, "2.txt", number=2, date="2021-02-30")
    write_seed(seeds_dir, "3.txt", number=3, title="", date="", author="", category=None, body="",
               heading=False)  # fmt: skip
    return seeds_dir


def test_summary_line_and_messages_with_file_and_line(mixed):
    out, err, error = run(mixed)
    assert "3 files in" in out
    assert "1 created, 0 updated, 0 unchanged, 1 skipped, 0 conflict, 1 failed" in out
    assert f"{mixed / '1.txt'}:2: warning: removed control characters U+0003" in err
    assert f'{mixed / "2.txt"}:3: error: date "2021-02-30" is not a real date' in err
    assert f"{mixed / '3.txt'}:1: warning: failed capture" in err
    assert error is not None and error.returncode == 1
    assert "1 of 3 files failed" in str(error)


def test_verbosity_two_adds_a_line_per_file(mixed):
    out, _, _ = run(mixed, verbosity=2)
    assert f"created: {mixed / '1.txt'} (1)" in out
    assert f"failed: {mixed / '2.txt'}\n" in out
    assert f"skipped: {mixed / '3.txt'} (3)" in out


def test_verbosity_zero_prints_only_errors(mixed):
    out, err, _ = run(mixed, verbosity=0)
    assert out == ""
    assert "error: date" in err and "warning" not in err


def test_success_exits_zero(seeds_dir):
    write_seed(seeds_dir, "1.txt")
    _, _, error = run(seeds_dir)
    assert error is None
    assert Article.objects.count() == 1


def test_report_file_holds_totals_and_every_file(mixed, tmp_path):
    report = tmp_path / "report.json"
    run(mixed, "--report", report)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["totals"] == {
        "created": 1, "updated": 0, "unchanged": 0, "skipped": 1, "conflict": 0, "failed": 1
    }  # fmt: skip
    files = {entry["path"].rsplit("/", 1)[-1]: entry for entry in data["files"]}
    assert files["1.txt"]["status"] == "created" and files["1.txt"]["number"] == 1
    assert files["1.txt"]["messages"] == [
        {"level": "warning", "line": line, "text": "removed control characters U+0003"}
        for line in (2, 10)  # the title, and the heading that repeats it
    ]
    assert files["2.txt"]["status"] == "failed"
    assert files["2.txt"]["messages"][0]["level"] == "error"
    assert files["2.txt"]["messages"][0]["line"] == 3
    assert files["3.txt"]["status"] == "skipped"


def test_dry_run_says_so_and_saves_nothing(seeds_dir):
    write_seed(seeds_dir, "1.txt")
    out, _, _ = run(seeds_dir, "--dry-run")
    assert "1 created" in out and "dry run" in out
    assert not Article.objects.exists()


def test_missing_path_is_a_command_error(tmp_path):
    _, _, error = run(tmp_path / "nowhere")
    assert "no such file or folder" in str(error)


def test_default_path_is_the_seeds_folder():
    out, _, error = run()
    assert error is None
    assert "1 created" in out
    assert Article.objects.get().number == 48691
