"""`make corpus`: `handlerlens check` over public projects pinned by commit, against judgements.

    python -m bench.corpus fetch [--dir DIR]        # check out bench/corpus.txt into DIR
    python -m bench.corpus run [--dir DIR] [--strict] [--only NAME] [--save FILE]

`bench/corpus.txt` lists one repository a line: `owner/name <40-hex commit> [folder …]` (no
folder: the whole repository). `fetch` reuses a checkout already at that commit, else clones
https://github.com/owner/name and checks the commit out; with `CORPUS_MIRROR=DIR` it takes the
tree from a local bare mirror instead (`DIR/owner+name/repo` or `DIR/owner+name`), with
`git archive`. `run` checks every listed folder with `handlerlens check --format json` (from
the repository's root, so paths are relative to it), prints functions, problems per code,
exit codes and time, and compares each problem with `bench/corpus-judgements.tsv`, keyed on
(repo, path, line, code) — the commit is pinned, so lines do not move.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

HERE = os.path.dirname(os.path.abspath(__file__))
LIST = os.path.join(HERE, "corpus.txt")
JUDGEMENTS = os.path.join(HERE, "corpus-judgements.tsv")
MARKER = ".handlerlens-corpus-commit"
JUDGEMENT_COLUMNS = ("repo", "path", "line", "code", "message", "verdict", "cause", "why")
SEVERITIES = ("error", "warning", "info", "hint")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class CorpusError(Exception):
    """A bad corpus list, judgement file or checkout: said plainly, nothing half-done kept."""


def default_dir() -> str:
    cache = os.environ.get("HANDLERLENS_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "handlerlens"
    )
    return os.path.join(cache, "corpus")


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    repo: str  # owner/name
    commit: str
    folders: tuple[str, ...]  # relative to the repository's root; () = the whole repository

    @property
    def dirname(self) -> str:
        return self.repo.replace("/", "+")


def parse_list(text: str, source: str = "corpus.txt") -> list[Entry]:
    """Entries of a corpus list; `#` starts a comment. Raises CorpusError on a bad line."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        where = f"{source}:{number}"
        if len(words) < 2:
            raise CorpusError(f"{where}: expected 'owner/name <40-hex commit> [folder …]'")
        repo, commit, folders = words[0], words[1].lower(), words[2:]
        if not _REPO.match(repo):
            raise CorpusError(f"{where}: {repo!r} is not owner/name")
        if not _COMMIT.match(commit):
            raise CorpusError(f"{where}: {words[1]!r} is not a 40-hex commit")
        for folder in folders:
            parts = folder.strip("/").split("/")
            if os.path.isabs(folder) or ".." in parts:
                raise CorpusError(f"{where}: folder {folder!r} must stay inside the repository")
        if repo in seen:
            raise CorpusError(f"{where}: {repo} is listed twice")
        seen.add(repo)
        entries.append(Entry(repo, commit, tuple(f.strip("/") or "." for f in folders)))
    return entries


def load_list(path: str = LIST) -> list[Entry]:
    with open(path, encoding="utf-8") as f:
        return parse_list(f.read(), os.path.basename(path))


# --- fetching -------------------------------------------------------------------------------


def _git(*args: str, cwd: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise CorpusError(f"git {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def checkout_commit(dest: str) -> str | None:
    """The commit a checkout holds (marker from a mirror, else git's HEAD), or None."""
    marker = os.path.join(dest, MARKER)
    if os.path.isfile(marker):
        with open(marker, encoding="utf-8") as f:
            return f.read().strip()
    if os.path.isdir(os.path.join(dest, ".git")):
        try:
            return _git("rev-parse", "HEAD", cwd=dest).strip()
        except CorpusError:
            return None
    return None


def mirror_git_dir(mirror: str, entry: Entry) -> str | None:
    for candidate in (
        os.path.join(mirror, entry.dirname, "repo"),
        os.path.join(mirror, entry.dirname),
    ):
        if os.path.isfile(os.path.join(candidate, "HEAD")):
            return candidate
    return None


def extract_tree(git_dir: str, commit: str, dest: str) -> list[str]:
    """Write the tree of `commit` into `dest`; returns the paths whose blobs the (partial)
    mirror lacks — snapshots may leave out large files — instead of failing on them."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", "--full-tree", commit],
        capture_output=True,
    )
    if listing.returncode != 0:
        err = listing.stderr.decode(errors="replace").strip()
        raise CorpusError(f"git ls-tree {commit} in {git_dir}: {err}")
    items: list[tuple[str, str, str]] = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, sha = meta.decode().split()
        if kind == "blob":  # submodules ("commit") are left out, as a plain clone does
            items.append((mode, sha, path.decode("utf-8", errors="surrogateescape")))
    absent: list[str] = []
    cat = subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert cat.stdin is not None and cat.stdout is not None
    try:
        for mode, sha, name in items:
            cat.stdin.write(sha.encode() + b"\n")
            cat.stdin.flush()
            header = cat.stdout.readline().split()
            if len(header) != 3:  # "<sha> missing"
                absent.append(name)
                continue
            data = cat.stdout.read(int(header[2]))
            cat.stdout.read(1)  # the newline after each object
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if mode == "120000":
                os.symlink(data.decode("utf-8", errors="surrogateescape"), target)
                continue
            with open(target, "wb") as f:
                f.write(data)
            if mode == "100755":
                os.chmod(target, 0o755)
    finally:
        cat.stdin.close()
        cat.wait()
        cat.stdout.close()
    return absent


def fetch_one(entry: Entry, corpus_dir: str, mirror: str | None, out: TextIO) -> str:
    """Make `corpus_dir/owner+name` hold `entry.commit`; say what was done."""
    dest = os.path.join(corpus_dir, entry.dirname)
    if checkout_commit(dest) == entry.commit:
        return "cached"
    os.makedirs(corpus_dir, exist_ok=True)
    # Build beside the destination, then swap it in: a failure leaves the old checkout alone.
    work = tempfile.mkdtemp(prefix=f".{entry.dirname}.", dir=corpus_dir)
    try:
        if mirror:
            git_dir = mirror_git_dir(mirror, entry)
            if git_dir is None:
                raise CorpusError(f"{entry.repo}: no mirror under {mirror}/{entry.dirname}")
            absent = extract_tree(git_dir, entry.commit, work)
            with open(os.path.join(work, MARKER), "w", encoding="utf-8") as f:
                f.write(entry.commit + "\n")
            how = "from mirror"
            if absent:
                how += f" ({len(absent)} file(s) absent from it, large ones: {absent[0]} …)"
        else:
            url = f"https://github.com/{entry.repo}"
            out.write(f"  cloning {url} …\n")
            out.flush()
            _git("clone", "--quiet", "--filter=blob:none", "--no-checkout", url, work)
            _git("-c", "advice.detachedHead=false", "checkout", "--quiet", entry.commit, cwd=work)
            how = "cloned"
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.replace(work, dest)
        return how
    finally:
        if os.path.exists(work):
            shutil.rmtree(work, ignore_errors=True)


def fetch_all(entries: Sequence[Entry], corpus_dir: str, mirror: str | None, out: TextIO) -> int:
    failed = 0
    for entry in entries:
        try:
            how = fetch_one(entry, corpus_dir, mirror, out)
            out.write(f"{entry.repo} {entry.commit[:12]}: {how}\n")
        except CorpusError as e:
            failed += 1
            out.write(f"{entry.repo}: FAILED: {e}\n")
        out.flush()
    return failed


# --- judgements -----------------------------------------------------------------------------

Key = tuple[str, str, int, str]  # repo, path, line, code


@dataclass(frozen=True)
class Judgement:
    repo: str
    path: str
    line: int
    code: str
    message: str  # the start of the message judged
    verdict: str  # real | false
    cause: str  # root-cause letter for a false one (issue 14's A–M, or a new one)
    why: str

    @property
    def key(self) -> Key:
        return (self.repo, self.path, self.line, self.code)


def parse_judgements(text: str, source: str = "corpus-judgements.tsv") -> dict[Key, Judgement]:
    """Judgements by key. A header row names the columns; `#` lines are comments."""
    rows = [r for r in text.splitlines() if r.strip() and not r.lstrip().startswith("#")]
    if not rows:
        return {}
    header = rows[0].split("\t")
    if tuple(header) != JUDGEMENT_COLUMNS:
        raise CorpusError(f"{source}: the header must be {' '.join(JUDGEMENT_COLUMNS)} (tabs)")
    judged: dict[Key, Judgement] = {}
    for number, row in enumerate(csv.reader(rows[1:], delimiter="\t", quoting=csv.QUOTE_NONE), 2):
        if len(row) != len(JUDGEMENT_COLUMNS):
            raise CorpusError(f"{source}: row {number} has {len(row)} columns, not 8")
        repo, path, line, code, message, verdict, cause, why = row
        if verdict not in ("real", "false"):
            raise CorpusError(f"{source}: row {number}: verdict {verdict!r} is not real|false")
        if not line.isdigit():
            raise CorpusError(f"{source}: row {number}: line {line!r} is not a number")
        if verdict == "false" and not cause:
            raise CorpusError(f"{source}: row {number}: a false one needs its cause letter")
        j = Judgement(repo, path, int(line), code, message, verdict, cause, why)
        if j.key in judged:
            raise CorpusError(f"{source}: row {number}: {j.key} is judged twice")
        judged[j.key] = j
    return judged


def load_judgements(path: str = JUDGEMENTS) -> dict[Key, Judgement]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return parse_judgements(f.read(), os.path.basename(path))


def _clean(text: str) -> str:
    return " ".join(text.split())


def judgement_row(problem: Problem, verdict: str = "", cause: str = "", why: str = "") -> str:
    msg = _clean(problem.message)[:60]
    cells = [problem.repo, problem.path, str(problem.line), problem.code, msg, verdict]
    return "\t".join([*cells, cause, why])


# --- running --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    repo: str
    path: str  # relative to the repository's root
    line: int
    column: int
    severity: str
    code: str
    message: str

    @property
    def key(self) -> Key:
        return (self.repo, self.path, self.line, self.code)


@dataclass
class FolderRun:
    repo: str
    folder: str
    exit_code: int
    seconds: float
    functions: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str = ""  # why the output could not be read (crash, not JSON)


def parse_check_output(repo: str, folder: str, code: int, seconds: float, stdout: str) -> FolderRun:
    """A FolderRun from `handlerlens check --format json` output (paths from the repo root)."""
    run = FolderRun(repo, folder, code, seconds)
    try:
        data = json.loads(stdout)
        run.functions = int(data["functions"])
        for p in data["problems"]:
            path = os.path.normpath(p["path"]).replace(os.sep, "/")
            run.problems.append(
                Problem(
                    repo,
                    path,
                    int(p["line"]),
                    int(p["column"]),
                    str(p["severity"]),
                    str(p["code"]),
                    str(p["message"]),
                )
            )
    except (ValueError, KeyError, TypeError) as e:
        run.error = f"unreadable output ({type(e).__name__}: {e}): {stdout[:200]!r}"
    return run


def check_folder(repo_dir: str, entry: Entry, folder: str, timeout: float) -> FolderRun:
    # --no-cache: the parsers themselves are judged (and timed), not a previous run.
    cmd = [sys.executable, "-m", "handlerlens", "check", "--no-cache", "--format", "json", folder]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=repo_dir, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        run = FolderRun(entry.repo, folder, -1, time.perf_counter() - start)
        run.error = f"timed out after {timeout:g} s"
        return run
    seconds = time.perf_counter() - start
    run = parse_check_output(entry.repo, folder, done.returncode, seconds, done.stdout)
    if done.returncode not in (0, 1) and not run.error:
        run.error = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
    elif run.error and done.stderr.strip():
        run.error += f"; stderr: {done.stderr.strip()[-300:]}"
    return run


# --- comparing ------------------------------------------------------------------------------


@dataclass
class Comparison:
    judged_real: list[Problem] = field(default_factory=list)
    judged_false: list[tuple[Problem, Judgement]] = field(default_factory=list)
    unjudged: list[Problem] = field(default_factory=list)
    lost: list[Judgement] = field(default_factory=list)  # judged real, no longer reported
    stale: list[tuple[Problem, Judgement]] = field(default_factory=list)  # message changed

    def precision(self, severity: str | None = None) -> tuple[int, int]:
        """(real, judged) among reported problems, of one severity or all."""
        real = [p for p in self.judged_real if severity in (None, p.severity)]
        false = [p for p, _ in self.judged_false if severity in (None, p.severity)]
        return len(real), len(real) + len(false)


def compare(
    problems: Iterable[Problem], judged: dict[Key, Judgement], ran: Iterable[tuple[str, str]]
) -> Comparison:
    """Each reported problem against its judgement; judged-real ones not reported in a folder
    that ran are lost (`ran`: (repo, folder) pairs; folder "." is the whole repository)."""
    result = Comparison()
    reported: set[Key] = set()
    for p in problems:
        reported.add(p.key)
        j = judged.get(p.key)
        if j is None:
            result.unjudged.append(p)
            continue
        if not _clean(p.message).startswith(_clean(j.message)):
            result.stale.append((p, j))
        if j.verdict == "real":
            result.judged_real.append(p)
        else:
            result.judged_false.append((p, j))
    ran_list = list(ran)
    for j in judged.values():
        if j.verdict != "real" or j.key in reported:
            continue
        if any(j.repo == repo and _inside(j.path, folder) for repo, folder in ran_list):
            result.lost.append(j)
    return result


def _inside(path: str, folder: str) -> bool:
    return folder in (".", "") or path == folder or path.startswith(folder.rstrip("/") + "/")


# --- reporting ------------------------------------------------------------------------------


def _pct(real: int, judged: int) -> str:
    return f"{100.0 * real / judged:.1f}% ({real}/{judged})" if judged else "n/a (0 judged)"


def report(runs: Sequence[FolderRun], comparison: Comparison, out: TextIO) -> None:
    by_repo: dict[str, list[FolderRun]] = {}
    for r in runs:
        by_repo.setdefault(r.repo, []).append(r)
    w = max([len("repository"), *(len(r.repo) for r in runs)])
    out.write(f"{'repository':<{w}} {'dirs':>4} {'fns':>4} {'err':>4} {'warn':>4} {'info':>4}")
    out.write(f" {'exit 0/1/other':>14} {'time':>7}\n")
    for repo, rs in by_repo.items():
        sev = Counter(p.severity for r in rs for p in r.problems)
        exits = Counter(r.exit_code for r in rs)
        other = sum(n for c, n in exits.items() if c not in (0, 1))
        out.write(
            f"{repo:<{w}} {len(rs):>4} {sum(r.functions for r in rs):>4} {sev['error']:>4} "
            f"{sev['warning']:>4} {sev['info']:>4} {f'{exits[0]}/{exits[1]}/{other}':>14} "
            f"{sum(r.seconds for r in rs):>6.1f}s\n"
        )
    problems = [p for r in runs for p in r.problems]
    sev = Counter(p.severity for p in problems)
    exits = Counter(r.exit_code for r in runs)
    other = sum(n for c, n in exits.items() if c not in (0, 1))
    out.write(
        f"{'TOTAL':<{w}} {len(runs):>4} {sum(r.functions for r in runs):>4} {sev['error']:>4} "
        f"{sev['warning']:>4} {sev['info']:>4} {f'{exits[0]}/{exits[1]}/{other}':>14} "
        f"{sum(r.seconds for r in runs):>6.1f}s\n"
    )
    crashed = [r for r in runs if r.error]
    for r in crashed:
        out.write(f"  FAILED {r.repo} {r.folder}: {r.error}\n")

    out.write("\nproblems per code (error / warning / info):\n")
    per_code: dict[str, Counter[str]] = {}
    for p in problems:
        per_code.setdefault(p.code, Counter())[p.severity] += 1
    for code, c in sorted(per_code.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        out.write(
            f"  {code:<34} {c['error']:>4} / {c['warning']:>4} / {c['info'] + c['hint']:>4}\n"
        )

    out.write("\njudgements:\n")
    out.write(f"  precision, all problems: {_pct(*comparison.precision())}\n")
    out.write(f"  precision, errors:       {_pct(*comparison.precision('error'))}\n")
    out.write(f"  precision, warnings:     {_pct(*comparison.precision('warning'))}\n")
    causes = Counter(j.cause for _, j in comparison.judged_false)
    if causes:
        listed = ", ".join(f"{c}: {n}" for c, n in sorted(causes.items()))
        out.write(f"  false positives per cause: {listed}\n")
    false_keys = {p.key for p, _ in comparison.judged_false}
    failing = [r for r in runs if r.exit_code == 1]
    only_false = [
        r
        for r in failing
        if all(p.key in false_keys for p in r.problems if p.severity in ("error", "warning"))
    ]
    out.write(f"  folders exiting 1 only on problems judged false: {len(only_false)} of ")
    out.write(f"{len(failing)}\n")
    out.write(f"  unjudged: {len(comparison.unjudged)}\n")
    if comparison.unjudged:
        out.write("  (rows to judge, tab-separated as in bench/corpus-judgements.tsv:)\n")
        for p in comparison.unjudged:
            out.write(f"    {judgement_row(p)}\n")
    out.write(f"  judged real, no longer reported (lost): {len(comparison.lost)}\n")
    for j in comparison.lost:
        out.write(f"    {j.repo} {j.path}:{j.line} [{j.code}] {j.message}\n")
    if comparison.stale:
        out.write(f"  judged, but the message changed since: {len(comparison.stale)}\n")
        for p, j in comparison.stale:
            out.write(f"    {p.repo} {p.path}:{p.line} [{p.code}] was {j.message!r}, now ")
            out.write(f"{_clean(p.message)[:60]!r}\n")


def strict_failures(runs: Sequence[FolderRun], comparison: Comparison) -> list[str]:
    """Why `--strict` fails: a crash, a problem judged false, an unjudged one, a lost one."""
    why: list[str] = []
    if any(r.error for r in runs):
        why.append(f"{sum(1 for r in runs if r.error)} folder(s) failed to check")
    if comparison.judged_false:
        why.append(f"{len(comparison.judged_false)} problem(s) judged false are reported")
    if comparison.unjudged:
        why.append(f"{len(comparison.unjudged)} problem(s) are not judged")
    if comparison.lost:
        why.append(f"{len(comparison.lost)} problem(s) judged real are no longer reported")
    return why


def run_all(
    entries: Sequence[Entry], corpus_dir: str, timeout: float, out: TextIO
) -> list[FolderRun]:
    runs: list[FolderRun] = []
    for entry in entries:
        repo_dir = os.path.join(corpus_dir, entry.dirname)
        if checkout_commit(repo_dir) != entry.commit:
            raise CorpusError(
                f"{entry.repo} is not checked out at {entry.commit[:12]} under {corpus_dir} "
                "(run `python -m bench.corpus fetch` first, or `make corpus`)"
            )
        for folder in entry.folders or (".",):
            if not os.path.isdir(os.path.join(repo_dir, folder)):
                run = FolderRun(entry.repo, folder, -1, 0.0)
                run.error = "no such folder at this commit"
                runs.append(run)
                continue
            runs.append(check_folder(repo_dir, entry, folder, timeout))
        out.write(".")
        out.flush()
    out.write("\n")
    return runs


def save_runs(runs: Sequence[FolderRun], path: str) -> None:
    rows = [
        {
            "repo": r.repo,
            "folder": r.folder,
            "exit": r.exit_code,
            "seconds": round(r.seconds, 3),
            "functions": r.functions,
            "error": r.error,
            "problems": [p.__dict__ for p in r.problems],
        }
        for r in runs
    ]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("fetch", "run"):
        p = sub.add_parser(name)
        p.add_argument("--dir", default=default_dir(), help="checkouts (default: %(default)s)")
        p.add_argument("--list", default=LIST, help="the corpus list (default: bench/corpus.txt)")
        p.add_argument("--only", action="append", default=[], help="repos whose name has this")
    run_p = sub.choices["run"]
    run_p.add_argument("--judgements", default=JUDGEMENTS)
    run_p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 on a false, unjudged or lost problem, or a folder that failed to check",
    )
    run_p.add_argument("--timeout", type=float, default=120.0, help="seconds per folder")
    run_p.add_argument("--save", help="write every folder's result as JSON here")
    args = parser.parse_args(argv)
    try:
        entries = load_list(args.list)
        if args.only:
            entries = [e for e in entries if any(o in e.repo for o in args.only)]
        corpus_dir = os.path.abspath(args.dir)
        if args.command == "fetch":
            mirror = os.environ.get("CORPUS_MIRROR") or None
            return 1 if fetch_all(entries, corpus_dir, mirror, sys.stdout) else 0
        judged = load_judgements(args.judgements)
        runs = run_all(entries, corpus_dir, args.timeout, sys.stdout)
    except (CorpusError, OSError) as e:
        sys.stderr.write(f"corpus: {e}\n")
        return 2
    if args.save:
        save_runs(runs, args.save)
    problems = [p for r in runs for p in r.problems]
    comparison = compare(problems, judged, [(r.repo, r.folder) for r in runs])
    report(runs, comparison, sys.stdout)
    if any(r.error for r in runs) and not args.strict:
        return 1
    failures = strict_failures(runs, comparison) if args.strict else []
    for why in failures:
        sys.stdout.write(f"strict: {why}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
