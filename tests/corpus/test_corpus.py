"""`make corpus`'s instrument (bench/corpus.py): the list, the judgements, the comparison, a
checkout from a local bare mirror, and a run of the real `handlerlens check` — no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import corpus
from bench.corpus import CorpusError, Entry

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
HEADER = "\t".join(corpus.JUDGEMENT_COLUMNS)


def row(*cells: object) -> str:
    return "\t".join(str(c) for c in cells)


# --- the list -------------------------------------------------------------------------------


def test_list_reads_repos_commits_and_folders_and_skips_comments() -> None:
    text = f"# a comment\n\nowner/one {COMMIT.upper()}  # trailing\nowner/two {COMMIT} a/ b/c\n"
    assert corpus.parse_list(text) == [
        Entry("owner/one", COMMIT, ()),
        Entry("owner/two", COMMIT, ("a", "b/c")),
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("owner/one", "expected 'owner/name <40-hex commit>"),
        ("owner-one " + COMMIT, "is not owner/name"),
        ("owner/one main", "is not a 40-hex commit"),
        (f"owner/one {COMMIT} ../escape", "must stay inside the repository"),
        (f"owner/one {COMMIT} /abs", "must stay inside the repository"),
        (f"owner/one {COMMIT}\nowner/one {COMMIT}", "listed twice"),
    ],
)
def test_a_bad_list_line_is_named(line: str, said: str) -> None:
    with pytest.raises(CorpusError, match=said):
        corpus.parse_list(line + "\n", "corpus.txt")


def test_the_repositorys_own_list_and_judgements_are_valid() -> None:
    entries = corpus.load_list()
    assert len(entries) >= 20
    judged = corpus.load_judgements()
    listed = {e.repo for e in entries}
    assert judged and {j.repo for j in judged.values()} <= listed
    assert all(j.cause for j in judged.values() if j.verdict == "false")


# --- judgements -----------------------------------------------------------------------------


def test_judgements_are_keyed_on_repo_path_line_code() -> None:
    text = "\n".join(
        [
            "# comment before the header",
            HEADER,
            row("o/r", "a.py", 3, "event-key-unknown", "No AWS", "false", "D", "false: Firehose"),
            row("o/r", "t.yaml", 9, "entry-point-module-missing", "Entry", "real", "", "real"),
        ]
    )
    judged = corpus.parse_judgements(text)
    assert set(judged) == {
        ("o/r", "a.py", 3, "event-key-unknown"),
        ("o/r", "t.yaml", 9, "entry-point-module-missing"),
    }
    assert judged[("o/r", "a.py", 3, "event-key-unknown")].cause == "D"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (row("o/r", "a.py", 3, "c", "m", "maybe", "", "w"), "is not real|false"),
        (row("o/r", "a.py", "x", "c", "m", "real", "", "w"), "is not a number"),
        (row("o/r", "a.py", 3, "c", "m", "false", "", "w"), "needs its cause letter"),
        (row("o/r", "a.py", 3, "c", "m", "real"), "has 6 columns"),
        (row("o/r", "a.py", 3, "c", "m", "real", "", "w") * 2, "columns"),
    ],
)
def test_a_bad_judgement_row_is_named(body: str, said: str) -> None:
    with pytest.raises(CorpusError, match=said):
        corpus.parse_judgements(HEADER + "\n" + body + "\n")


def test_a_judgement_file_without_its_header_or_with_a_key_twice_is_refused() -> None:
    line = row("o/r", "a.py", 3, "c", "m", "real", "", "w")
    with pytest.raises(CorpusError, match="header"):
        corpus.parse_judgements(line + "\n")
    with pytest.raises(CorpusError, match="judged twice"):
        corpus.parse_judgements("\n".join([HEADER, line, line]))


# --- comparing a fake check output ----------------------------------------------------------


def fake_check(*problems: tuple[str, int, str, str, str]) -> str:
    """`handlerlens check --format json` output with these (path, line, severity, code, msg)."""
    rows = [
        {
            "path": path,
            "line": line,
            "column": 5,
            "endLine": line,
            "endColumn": 9,
            "severity": severity,
            "code": code,
            "message": message,
            "source": "handlerlens",
        }
        for path, line, severity, code, message in problems
    ]
    return json.dumps({"functions": 3, "problems": rows})


JUDGED = corpus.parse_judgements(
    "\n".join(
        [
            HEADER,
            row(
                "o/r",
                "sub/t.yaml",
                4,
                "entry-point-module-missing",
                "Entry point 'a",
                "real",
                "",
                "r",
            ),
            row("o/r", "sub/app.py", 7, "event-key-unknown", "No AWS Lambda", "false", "D", "f"),
            row("o/r", "sub/app.py", 9, "context-attribute-unknown", "The AWS", "false", "A", "f"),
            row("o/r", "sub/old.py", 2, "entry-point-function-missing", "Gone", "real", "", "r"),
            row("o/r", "other/x.py", 1, "entry-point-function-missing", "Else", "real", "", "r"),
        ]
    )
)


def test_compare_sorts_reported_problems_into_real_false_unjudged_and_finds_lost_ones() -> None:
    out = fake_check(
        ("sub/t.yaml", 4, "error", "entry-point-module-missing", "Entry point 'a.h': no a.py"),
        ("sub/app.py", 7, "warning", "event-key-unknown", "No AWS Lambda event has 'records'"),
        ("sub/app.py", 9, "warning", "context-attribute-unknown", "The Yandex context has no"),
        ("sub/new.py", 1, "error", "entry-point-function-missing", "New one"),
    )
    run = corpus.parse_check_output("o/r", "sub", 1, 0.5, out)
    assert run.functions == 3 and not run.error
    result = corpus.compare(run.problems, JUDGED, [("o/r", "sub")])
    assert [p.path for p in result.judged_real] == ["sub/t.yaml"]
    assert [(p.line, j.cause) for p, j in result.judged_false] == [(7, "D"), (9, "A")]
    assert [p.path for p in result.unjudged] == ["sub/new.py"]
    # Lost: judged real, inside a folder that ran, not reported; other/ did not run.
    assert [j.path for j in result.lost] == ["sub/old.py"]
    # The message judged no longer starts the reported one: shown, so it is judged again.
    assert [(p.line, j.message) for p, j in result.stale] == [(9, "The AWS")]
    assert result.precision() == (1, 3)
    assert result.precision("error") == (1, 1)
    assert result.precision("warning") == (0, 2)
    why = corpus.strict_failures([run], result)
    assert why == [
        "2 problem(s) judged false are reported",
        "1 problem(s) are not judged",
        "1 problem(s) judged real are no longer reported",
    ]


def test_a_whole_repository_run_counts_every_lost_one_and_clean_passes_strict() -> None:
    real_only = {k: j for k, j in JUDGED.items() if j.verdict == "real"}
    out = fake_check(
        ("sub/t.yaml", 4, "error", "entry-point-module-missing", "Entry point 'a.h'"),
        ("sub/old.py", 2, "error", "entry-point-function-missing", "Gone for good"),
        ("other/x.py", 1, "error", "entry-point-function-missing", "Else"),
    )
    run = corpus.parse_check_output("o/r", ".", 1, 0.5, out)
    result = corpus.compare(run.problems, real_only, [("o/r", ".")])
    assert result.precision() == (3, 3) and not result.lost
    assert corpus.strict_failures([run], result) == []


def test_output_that_is_not_check_json_is_a_failed_folder_not_a_crash() -> None:
    run = corpus.parse_check_output("o/r", ".", 2, 0.1, "Traceback (most recent call last):")
    assert run.error.startswith("unreadable output") and not run.problems
    result = corpus.compare([], {}, [])
    assert corpus.strict_failures([run], result) == ["1 folder(s) failed to check"]


def test_report_prints_counts_precision_causes_and_rows_to_judge() -> None:
    import io

    out_false = ("sub/app.py", 7, "warning", "event-key-unknown", "No AWS Lambda event")

    out = fake_check(
        ("sub/t.yaml", 4, "error", "entry-point-module-missing", "Entry point 'a.h'"),
        ("sub/app.py", 7, "warning", "event-key-unknown", "No AWS Lambda event"),
        ("sub/new.py", 1, "info", "config-value-unresolved", "Computed\tby Terraform"),
    )
    run = corpus.parse_check_output("o/r", "sub", 1, 0.25, out)
    result = corpus.compare(run.problems, JUDGED, [("o/r", "sub")])
    text = io.StringIO()
    corpus.report([run], result, text)
    printed = text.getvalue()
    assert "o/r " in printed and "0/1/0" in printed
    assert "entry-point-module-missing            1 /    0 /    0" in printed
    assert "precision, all problems: 50.0% (1/2)" in printed
    assert "precision, errors:       100.0% (1/1)" in printed
    assert "false positives per cause: D: 1" in printed
    # The folder fails on a real error too, so not "only on problems judged false".
    assert "folders exiting 1 only on problems judged false: 0 of 1" in printed
    only_false = corpus.parse_check_output("o/r", "sub", 1, 0.1, fake_check(out_false))
    text = io.StringIO()
    corpus.report([only_false], corpus.compare(only_false.problems, JUDGED, []), text)
    assert "folders exiting 1 only on problems judged false: 1 of 1" in text.getvalue()
    # An unjudged problem is printed as a judgement row, ready to fill in.
    assert "o/r\tsub/new.py\t1\tconfig-value-unresolved\tComputed by Terraform\t\t\t" in printed


# --- fetching from a local bare mirror ------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str]:
    """A bare mirror at tmp/mirror/owner+proj/repo (the fetch tool's layout), one commit."""
    work = tmp_path / "work"
    (work / "fn").mkdir(parents=True)
    (work / "fn" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (work / "run.sh").write_text("#!/bin/sh\nexec python -m app\n")
    (work / "run.sh").chmod(0o755)
    (work / "big.bin").write_bytes(b"\0" * 4096)
    git("init", "-q", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "one", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    bare = tmp_path / "mirror" / "owner+proj" / "repo"
    bare.parent.mkdir(parents=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return tmp_path / "mirror", commit


def test_fetch_from_a_mirror_writes_the_tree_then_reuses_it(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    import io

    mirror_dir, commit = mirror
    entry = Entry("owner/proj", commit, ())
    cache = tmp_path / "cache"
    out = io.StringIO()
    assert corpus.fetch_one(entry, str(cache), str(mirror_dir), out) == "from mirror"
    dest = cache / "owner+proj"
    assert (dest / "fn" / "app.py").read_text().startswith("def handler(event, context):")
    assert os.access(dest / "run.sh", os.X_OK)
    assert corpus.checkout_commit(str(dest)) == commit
    assert corpus.fetch_one(entry, str(cache), str(mirror_dir), out) == "cached"
    # Nothing half-made is left beside it.
    assert sorted(os.listdir(cache)) == ["owner+proj"]


def test_a_mirror_without_a_large_file_still_checks_out_and_says_so(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    import io

    mirror_dir, commit = mirror
    git_dir = mirror_dir / "owner+proj" / "repo"
    blob = git(f"--git-dir={git_dir}", "rev-parse", f"{commit}:big.bin", cwd=tmp_path)
    (git_dir / "objects" / blob[:2] / blob[2:]).unlink()  # as a snapshot leaves large files out
    how = corpus.fetch_one(
        Entry("owner/proj", commit, ()), str(tmp_path / "c"), str(mirror_dir), io.StringIO()
    )
    assert how == "from mirror (1 file(s) absent from it, large ones: big.bin …)"
    assert (tmp_path / "c" / "owner+proj" / "fn" / "app.py").exists()


def test_fetch_says_which_repository_has_no_mirror_and_keeps_going(tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    entries = [Entry("owner/none", COMMIT, ())]
    assert corpus.fetch_all(entries, str(tmp_path / "c"), str(tmp_path), out) == 1
    assert "owner/none: FAILED: owner/none: no mirror under" in out.getvalue()
    assert os.listdir(tmp_path / "c") == []


# --- the whole run, through the real CLI ----------------------------------------------------


def test_run_checks_the_listed_folders_with_the_real_checker_and_compares(tmp_path: Path) -> None:
    repo = tmp_path / "corpus" / "owner+proj"
    (repo / "svc").mkdir(parents=True)
    (repo / "svc" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (repo / "svc" / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
        "      Handler: app.hander\n      Runtime: python3.12\n"
    )
    (repo / corpus.MARKER).write_text(COMMIT + "\n")
    listing = tmp_path / "corpus.txt"
    listing.write_text(f"owner/proj {COMMIT} svc\n")
    judgements = tmp_path / "judgements.tsv"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bench.corpus", "run", "--dir", str(tmp_path / "corpus")]
            + ["--list", str(listing), "--judgements", str(judgements), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    judgements.write_text(HEADER + "\n")
    first = run("--strict", "--save", str(tmp_path / "saved.json"))
    assert first.returncode == 1, first.stderr
    assert "owner/proj" in first.stdout and "0/1/0" in first.stdout
    assert "entry-point-function-missing" in first.stdout
    # one mistake, one problem: at the declaration (issue #21 item 12)
    assert "unjudged: 1" in first.stdout
    assert "strict: 1 problem(s) are not judged" in first.stdout
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved[0]["folder"] == "svc" and saved[0]["functions"] == 1
    # Judge what it printed: the rows to judge are ready to paste.
    rows = [
        line.strip() for line in first.stdout.splitlines() if line.startswith("    owner/proj\t")
    ]
    assert [r.split("\t")[1] for r in rows] == ["svc/template.yaml"]
    judged = [r.split("\t")[:5] + ["real", "", "real: misspelt handler"] for r in rows]
    judgements.write_text(HEADER + "\n" + "\n".join("\t".join(j) for j in judged) + "\n")
    second = run("--strict")
    assert second.returncode == 0, second.stdout
    assert "precision, errors:       100.0% (1/1)" in second.stdout
    # Fixed code: the problems judged real are gone, and that shows as lost recall.
    (repo / "svc" / "template.yaml").write_text(
        (repo / "svc" / "template.yaml").read_text().replace("app.hander", "app.handler")
    )
    third = run("--strict")
    assert third.returncode == 1
    assert "judged real, no longer reported (lost): 1" in third.stdout


def test_run_refuses_a_repository_not_checked_out_at_its_commit(tmp_path: Path) -> None:
    listing = tmp_path / "corpus.txt"
    listing.write_text(f"owner/proj {COMMIT}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.corpus",
            "run",
            "--dir",
            str(tmp_path),
            "--list",
            str(listing),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "owner/proj is not checked out at 0123456789ab" in done.stderr
