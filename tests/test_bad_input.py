"""Bad input is refused, named and harmless (issue 7, item 4).

Every case below is one malformed input (a broken copy of a real file, made in tmp_path, or a bad
``-p NAME VALUE``). For each one:

(a) ``test_error_names_the_cell``: the loader raises :class:`cart19.errors.InputError` whose message
    names the file, the exact column and 1-based row that were broken (where one applies) and the rule;
(b) ``test_cli_exits_nonzero``: ``python -m cart19 validate --cohort BAD`` (or ``build -p ...``) run
    as a subprocess exits 1 with that message on stderr and no traceback;
(c) ``test_build_refuses_and_keeps_the_book`` (marked ``slow``): ``python -m cart19 build`` run against
    a temporary copy of the repository (``CART19_ROOT``) holding the malformed input exits 1 with the
    same message *before any kernel starts*, and every file under the copy's ``book/`` (golden
    ``*.ipynb``, manifest and, if present, ``_build/html``) and ``data/`` has the same sha256 afterwards.

The malformed files are derived at test time from the current valid inputs (so the cases follow the
data as it changes); the row broken is chosen, and asserted, explicitly.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from cart19.book import params as P
from cart19.cohort import validate as V
from cart19.errors import InputError

REPO = Path(__file__).resolve().parents[1]
CLAIMS = "data/published/claims.csv"
COHORT = "data/cohort/cohort.csv"
NOT_INFUSED = "data/cohort/not_infused.csv"
READINGS = "data/published/readings.csv"
PARAMS = "notebooks/params.yml"
# a subprocess must not take the machine down with it; far above the ~1-3 s these take
TIMEOUT = 300


# ---------------------------------------------------------------------------------- csv helpers
def read_csv(rel: str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a valid input file of this checkout."""
    rows = list(csv.reader(io.StringIO((REPO / rel).read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def write_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([header] + rows)
    return buf.getvalue().encode("utf-8")


def first_row(rel: str, pred: Callable[[dict], bool]) -> int:
    """1-based data row of the first row of ``rel`` satisfying ``pred`` (a dict of the row)."""
    header, rows = read_csv(rel)
    for i, r in enumerate(rows, start=1):
        if pred(dict(zip(header, r))):
            return i
    raise AssertionError(f"no row of {rel} fits this case: the fixture data changed")


def set_cell(rel: str, row: int, column: str, value: str) -> bytes:
    header, rows = read_csv(rel)
    rows[row - 1][header.index(column)] = value
    return write_csv(header, rows)


# ---------------------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One malformed input.

    ``target`` is the input file replaced (a key of cart19.cohort.validate.LOADERS) or None for a bad
    command-line override; ``make()`` returns the file's bytes (None: the file is deleted) and the
    expected (column, row), computed from the valid file. ``rule`` is a regex the rule must match.
    ``build_args`` are extra ``build`` arguments (the -p cases).
    """

    id: str
    target: str | None
    make: Callable[[], tuple[bytes | None, str | None, int | None]]
    rule: str
    build_args: list[str] = field(default_factory=list)
    build_rule: str | None = None   # where the build words the same refusal differently
    data_row: bool = True           # make() gives the 1-based data row (else the spreadsheet row)

    def expected_row(self, row: int | None) -> int | None:
        """The row the message must name: as a spreadsheet numbers it (header = row 1)."""
        csv_file = self.target is not None and self.target.endswith(".csv")
        return row + 1 if row is not None and csv_file and self.data_row else row


def claims_dup_id():
    # two rows of one source, so only the uniqueness rule breaks (not "id starts with source")
    header, rows = read_csv(CLAIMS)
    src = header.index("source")
    row = next(i for i in range(2, len(rows) + 1) if rows[i - 1][src] == rows[i - 2][src])
    rows[row - 1][header.index("id")] = rows[row - 2][header.index("id")]
    return write_csv(header, rows), "id", row


def claims_bad_p():
    row = first_row(CLAIMS, lambda r: r["p"] != "")
    return set_cell(CLAIMS, row, "p", "0.0x5"), "p", row


def claims_n_gt_N():
    row = first_row(CLAIMS, lambda r: r["n"] != "" and r["N"] != "")
    _, rows = read_csv(CLAIMS)
    header = read_csv(CLAIMS)[0]
    big_n = int(float(rows[row - 1][header.index("N")])) + 1
    return set_cell(CLAIMS, row, "n", str(big_n)), "n", row


def readings_dup_id():
    header, rows = read_csv(READINGS)
    rows[1][header.index("reading_id")] = rows[0][header.index("reading_id")]
    return write_csv(header, rows), "reading_id", 2


def readings_unknown_claim():
    row = 3
    header, rows = read_csv(READINGS)
    col = header.index("claims")
    rows[row - 1][col] = rows[row - 1][col] + ";results.no_such_claim"
    return write_csv(header, rows), "claims", row


def params_line(name: str) -> int:
    lines = (REPO / PARAMS).read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, start=1) if ln.startswith(f"{name}:"))


def params_with(name: str, new_value: str):
    """params.yml with ``name``'s default replaced by ``new_value`` (its comment kept)."""
    def make():
        row = params_line(name)
        lines = (REPO / PARAMS).read_text(encoding="utf-8").splitlines()
        comment = lines[row - 1].split("#", 1)[1]
        lines[row - 1] = f"{name}: {new_value}   #{comment}"
        return ("\n".join(lines) + "\n").encode(), name, row
    return make


def params_without_doc():
    row = params_line("landmark_days")
    lines = (REPO / PARAMS).read_text(encoding="utf-8").splitlines()
    lines[row - 1] = lines[row - 1].split("#", 1)[0].rstrip()
    return ("\n".join(lines) + "\n").encode(), "landmark_days", row


def deleted(column=None, row=None):
    return lambda: (None, column, row)


def unchanged(column, row=None):
    return lambda: ((REPO / PARAMS).read_bytes(), column, row)


CASES: list[Case] = [
    # --- published record
    Case("claims-duplicate-id", CLAIMS, claims_dup_id, r"id must be unique"),
    Case("claims-unparseable-p", CLAIMS, claims_bad_p, r"not a number"),
    Case("claims-n-greater-than-N", CLAIMS, claims_n_gt_N, r"n must not exceed N"),
    Case("claims-missing", CLAIMS, deleted(), r"missing", build_rule=r"missing"),
    # --- readings adopted where the paper contradicts itself
    Case("readings-duplicate-id", READINGS, readings_dup_id, r"reading_id must be unique"),
    Case("readings-unknown-claim-id", READINGS, readings_unknown_claim, r"claim id not in claims\.csv"),
    # --- parameters: the file
    Case("params-date-instead-of-int", PARAMS, params_with("seed", "2020-05-26"),
         r"default must be an int, float, str, bool or list"),
    Case("params-null-default", PARAMS, params_with("landmark_days", "null"),
         r"default must be an int, float, str, bool or list"),
    Case("params-undocumented", PARAMS, params_without_doc, r"needs a `# comment`"),
    Case("params-missing", PARAMS, deleted(), r"missing"),
    # --- parameters: command-line overrides (the file stays valid)
    Case("param-override-unknown-name", None, unchanged("no_such_parameter"),
         r"unknown parameter 'no_such_parameter'", build_args=["-p", "no_such_parameter", "1"]),
    Case("param-override-wrong-type", None, unchanged("seed"),
         r"parameter 'seed' must be of type int", build_args=["-p", "seed", "abc"]),
    Case("param-override-list-for-int", None, unchanged("landmark_days"),
         r"parameter 'landmark_days' must be of type int", build_args=["-p", "landmark_days", "[1, 2]"]),
]
# cohort cases are appended below (COHORT_CASES)


# ------------------------------------------------------------------------------- cohort cases
def cohort_drop_column(column: str):
    def make():
        header, rows = read_csv(COHORT)
        k = header.index(column)
        return write_csv(header[:k] + header[k + 1:], [r[:k] + r[k + 1:] for r in rows]), column, None
    return make


def cohort_cell(column: str, value: Callable[[dict], str], pred: Callable[[dict], bool] = lambda r: True,
                skip: int = 2):
    """cohort.csv with ``column`` of the first row (after ``skip`` rows) fitting ``pred`` set to
    ``value(row)``: not the first row, so that a loader reporting row 1 for everything fails."""
    def make():
        header, rows = read_csv(COHORT)
        row = next(i for i, r in enumerate(rows, start=1) if i > skip and pred(dict(zip(header, r))))
        new = value(dict(zip(header, rows[row - 1])))
        return set_cell(COHORT, row, column, new), column, row
    return make


def cohort_dup_id():
    header, rows = read_csv(COHORT)
    row = 5
    rows[row - 1][header.index("patient_id")] = rows[row - 2][header.index("patient_id")]
    return write_csv(header, rows), "patient_id", row


def cohort_non_utf8():
    # a Latin-1 byte inside the text cell of one patient (what a spreadsheet export can produce)
    column, row = "death_cause", None
    header, rows = read_csv(COHORT)
    k = header.index(column)
    row = next(i for i, r in enumerate(rows, start=1) if i > 2 and r[k])
    data = write_csv(header, rows)
    lines = data.split(b"\n")
    cells = lines[row].split(b",")       # line 0 is the header; no quoted commas in this file
    assert len(cells) == len(header), "cohort.csv has quoted commas: adapt this case"
    cells[k] = cells[k] + b"\xe9"
    lines[row] = b",".join(cells)
    return b"\n".join(lines), column, row


def _is(col: str, value: str = "1"):
    return lambda r: r.get(col, "").strip() in {value, value + ".0"}


def _num(r: dict, col: str) -> float:
    return float(r[col])


def not_infused_dup_id():
    header, rows = read_csv(NOT_INFUSED)
    rows[1][header.index("patient_id")] = rows[0][header.index("patient_id")]
    return write_csv(header, rows), "patient_id", 2


COHORT_CASES: list[Case] = [
    Case("cohort-missing-column", COHORT, cohort_drop_column("os_event"), r"(?i)lack|missing|required"),
    Case("cohort-text-in-numeric-column", COHORT, cohort_cell("age_years", lambda r: "abc"),
         r"(?i)number|numeric|float|int"),
    Case("cohort-negative-day", COHORT,
         cohort_cell("relapse_day", lambda r: "-3", _is("relapse")), r"(?i)>= ?0|negative|non-negative"),
    Case("cohort-event-flag-not-0-1", COHORT, cohort_cell("os_event", lambda r: "2"), r"0.*1"),
    Case("cohort-death-before-relapse", COHORT,
         cohort_cell("death_day", lambda r: str(int(_num(r, "relapse_day")) - 10),
                     lambda r: _is("relapse")(r) and _is("death")(r) and _num(r, "relapse_day") > 10),
         r"(?i)death.*relapse|relapse.*death"),
    Case("cohort-duplicate-patient-id", COHORT, cohort_dup_id, r"(?i)unique|duplicate"),
    Case("cohort-empty-file", COHORT, lambda: (b"", None, None), r"(?i)empty"),
    Case("cohort-non-utf8", COHORT, cohort_non_utf8, r"UTF-8"),
    Case("cohort-missing", COHORT, deleted(), r"missing", build_rule=r"missing"),
    Case("not-infused-duplicate-id", NOT_INFUSED, not_infused_dup_id, r"(?i)unique|duplicate"),
]
CASES += COHORT_CASES


# ------------------------------------------------------------------- issue 18: bytes, quotes, values
def _lines(rel: str) -> list[bytes]:
    return write_csv(*read_csv(rel)).split(b"\n")


def _cell_offset(line: bytes, k: int) -> int:
    """Byte offset of the start of cell ``k`` of an unquoted CSV line."""
    return sum(len(c) + 1 for c in line.split(b",")[:k])


def claims_cr_in_non_utf8_line():
    """A CR and a Latin-1 byte in one line (a file saved by an old spreadsheet): csv itself fails on
    the CR; the message names the first bad byte's row and column."""
    header, _ = read_csv(CLAIMS)
    lines = _lines(CLAIMS)
    k = header.index("printed")
    at = _cell_offset(lines[4], k)
    lines[4] = lines[4][:at] + b"x\r\xb5" + lines[4][at:]
    return b"\n".join(lines), "printed", 5


def unterminated_quote(rel: str, line: int, k: int):
    def make():
        header, _ = read_csv(rel)
        lines = _lines(rel)
        at = _cell_offset(lines[line - 1], k)
        lines[line - 1] = lines[line - 1][:at] + b'"' + lines[line - 1][at:]
        return b"\n".join(lines), header[k], line
    return make


def ragged(rel: str, line: int):
    def make():
        lines = _lines(rel)
        lines[line - 1] += b",surplus"
        return b"\n".join(lines), None, line
    return make


def blank_lines_then(rel: str, column: str, value: str, row: int):
    """Two blank lines after data row 1, then ``column`` of data row ``row`` set to ``value``: the
    spreadsheet row is row + 1 (header) + 2 (blank lines)."""
    def make():
        lines = set_cell(rel, row, column, value).split(b"\n")
        lines[2:2] = [b"", b""]
        return b"\n".join(lines), column, row + 3
    return make


def latin1(rel: str, line: int):
    def make():
        lines = _lines(rel)
        lines[line - 1] = lines[line - 1] + b"\xe9"
        header, _ = read_csv(rel)
        return b"\n".join(lines), (header[-1] if rel.endswith(".csv") else None), line
    return make


def params_text(text: str, column: str, line: int):
    def make():
        body = (REPO / PARAMS).read_bytes() + text.encode()
        return body, column, (REPO / PARAMS).read_text().count("\n") + line
    return make


def params_latin1():
    lines = (REPO / PARAMS).read_bytes().split(b"\n")
    row = params_line("seed")
    lines[row - 1] = lines[row - 1].replace(b"random", b"al\xe9atoire")
    return b"\n".join(lines), None, row


def override(id_: str, name: str, value: str, rule: str) -> Case:
    """A bad ``-p NAME VALUE`` (params.yml stays valid)."""
    return Case(id_, None, unchanged(name), rule, build_args=["-p", name, value])


def cohort_ragged():
    return ragged(COHORT, 6)()


ISSUE_18_CASES: list[Case] = [
    Case("claims-cr-in-non-utf8-line", CLAIMS, claims_cr_in_non_utf8_line, r"not valid UTF-8", data_row=False),
    Case("claims-unterminated-quote", CLAIMS, unterminated_quote(CLAIMS, 7, 3), r"never closed|closing quote",
         data_row=False),
    Case("claims-ragged-row", CLAIMS, ragged(CLAIMS, 9), r"row has \d+ fields, header has", data_row=False),
    Case("claims-blank-lines-counted", CLAIMS, blank_lines_then(CLAIMS, "p", "0.0x5", 12), r"not a number",
         data_row=False),
    Case("readings-not-utf8", READINGS, latin1(READINGS, 3), r"not valid UTF-8", data_row=False),
    Case("cohort-inf-in-os_days", COHORT, cohort_cell("os_days", lambda r: "inf"), r"whole number"),
    Case("cohort-inf-in-tp53", COHORT, cohort_cell("tp53", lambda r: "inf"), r"whole number"),
    Case("cohort-ragged-row", COHORT, cohort_ragged, r"row has \d+ fields, header has", data_row=False),
    Case("cohort-unterminated-quote", COHORT, unterminated_quote(COHORT, 5, 2), r"never closed", data_row=False),
    Case("cohort-blank-lines-counted", COHORT, blank_lines_then(COHORT, "tp53", "2", 6), r"0 or 1",
         data_row=False),
    Case("cohort-invalid-date", COHORT, cohort_cell("infusion_date", lambda r: "2017-13-45"),
         r"real calendar date"),
    Case("cohort-missing-age", COHORT, cohort_cell("age_years", lambda r: ""), r"every patient has one"),
    Case("cohort-age-against-age-group", COHORT,
         cohort_cell("age_group", lambda r: "15-61", lambda r: float(r["age_years"]) < 15),
         r"age_group must match age_years"),
    Case("cohort-binary-file", COHORT, lambda: (b"PK\x03\x04\0\0\x08\0", None, 1), r"NUL byte", data_row=False),
    Case("not-infused-ragged-row", NOT_INFUSED, ragged(NOT_INFUSED, 3), r"fields, header has", data_row=False),
    Case("params-not-utf8", PARAMS, params_latin1, r"not valid UTF-8"),
    Case("params-duplicate-key", PARAMS, params_text("seed: 7   # again [0..9]\n", "seed", 1),
         r"key 'seed' is given twice"),
    Case("params-default-out-of-range", PARAMS, params_with("landmark_days", "0"),
         r"default must be from 1 to 478"),
    *(override(f"param-override-{label}", name, value, rule) for label, name, value, rule in [
        ("landmark-0", "landmark_days", "0", r"value must be from 1 to 478"),
        ("landmark-negative", "landmark_days", "-30", r"value must be from 1 to 478"),
        ("landmark-huge", "landmark_days", "1000000000", r"value must be from 1 to 478"),
        ("ensemble-size-0", "ensemble_size", "0", r"value must be from 2 to 1000"),
        ("sexagesimal", "seed", "1:20", r"parameter 'seed' must be of type int"),
        ("missing-file", "cohort_path", "../data/cohort/nope.csv", r"there is no such file")]),
]
CASES += ISSUE_18_CASES


def _ids(cases):
    return [c.id for c in cases]


FILE_OPTION = {CLAIMS: "--claims", READINGS: "--readings", COHORT: "--cohort", NOT_INFUSED: "--not-infused", PARAMS: "--params"}


def test_cases_are_distinct_and_enough():
    assert len({c.id for c in CASES}) == len(CASES) >= 15


# ------------------------------------------------------------------------------------- helpers
def _materialise(case: Case, where: Path) -> tuple[Path | None, str | None, int | None]:
    """Write the case's malformed file under ``where`` (same file name); None if deleted."""
    data, column, row = case.make()
    if case.target is None:
        return None, column, row
    path = where / Path(case.target).name
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(data)
    return path, column, row


def assert_names(message: str, file: str, column: str | None, row: int | None, rule: str) -> None:
    """The message names the file, the exact column and row broken, and the rule."""
    assert file in message, f"file {file!r} not named in: {message}"
    if column is not None:
        assert f"column {column!r}" in message, f"column {column!r} not named in: {message}"
    if row is not None:
        assert re.search(rf"\brow {row}\b", message), f"row {row} not named in: {message}"
    assert re.search(rule, message), f"rule /{rule}/ not in: {message}"


def git_files(repo: Path) -> list[str]:
    """Files git sees in ``repo``: tracked ones that exist, plus untracked ones not ignored (what a
    build of this working tree reads); .venv and every ignored file are left out."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=repo, capture_output=True, check=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (repo / f).is_file()})


def copy_repo(src: Path, dest: Path) -> Path:
    """A throw-away copy of the repository: git's files plus, if present, the rendered book/_build/html
    (ignored by git, but part of the 'last good book' that a refused build must not touch)."""
    for rel in git_files(src):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dest / rel)
    html = src / "book" / "_build" / "html"
    if html.is_dir():
        shutil.copytree(html, dest / "book" / "_build" / "html", symlinks=True)
    return dest


def book_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root/book`` and ``root/data`` (the last good book and its data)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in ("book", "data") for p in sorted((root / d).rglob("*")) if p.is_file()}


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m cart19 ARGS`` with the repository copy ``root`` as CART19_ROOT (and its lib/ first)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CART19_ROOT", "PYTHONPATH")}
    env.update(CART19_ROOT=str(root), PYTHONPATH=str(root / "lib"), PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "cart19", *args], cwd=root, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT)


def cli_error(proc: subprocess.CompletedProcess, cmd: str) -> str:
    """The error the command line reported (cart19.cli prints ``cart19 CMD: error: MESSAGE`` last;
    ``validate`` may print further bad files before it as ``error (also)``)."""
    head = f"cart19 {cmd}: error: "
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(head)]
    assert lines, f"no '{head}...' line on stderr:\n{proc.stdout}{proc.stderr}"
    return proc.stderr[proc.stderr.rindex(head) + len(head):]


KERNELS_STARTING = "parallel jobs"   # the build prints "build: N notebooks, J parallel jobs" first


def run_build_refusal(root: Path, *args: str) -> tuple[int, str, str, bool]:
    """``python -m cart19 build ARGS`` in the copy ``root``, stopped (with its kernels: own process
    group) as soon as it announces that kernels start: a build that gets that far has not refused
    the bad input, and letting it execute the chapters would only make a failing test slow.
    Returns (exit code, stdout, stderr, kernels_started)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CART19_ROOT", "PYTHONPATH")}
    env.update(CART19_ROOT=str(root), PYTHONPATH=str(root / "lib"), PYTHONHASHSEED="0")
    err_path = root.parent / "build-stderr.txt"
    with open(err_path, "w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "cart19", "build", *args], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out, started = [], False
        try:
            for line in proc.stdout:
                out.append(line)
                if KERNELS_STARTING in line:
                    started = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
            proc.wait(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.stdout.close()
        err.seek(0)
        return proc.returncode, "".join(out), err.read(), started


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One copy of the repository per module; each test copies it again (cheap, a few MB)."""
    root = copy_repo(REPO, tmp_path_factory.mktemp("template"))
    # prime the build's notebook-parsing memo (keyed by content hash) so each refused build is ~1 s
    from cart19.book import chapters as C
    from cart19.book import layout as L
    C.discover(L.Layout(root))
    # and the build's memo of input files found valid (.cache/build/valid.json, keyed by content):
    # each test's build then loads only the file it broke (that file's key no longer matches)
    memo: dict[str, str] = {}
    V.validate_reads(root, [rel for rel in V.LOADERS if (root / rel).is_file()], memo)
    (root / ".cache" / "build" / "valid.json").write_text(json.dumps(memo, sort_keys=True))
    return root


@pytest.fixture
def repo_copy(template, tmp_path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "repo", symlinks=True))


# --------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_error_names_the_cell(case, tmp_path):
    """(a) the loader's InputError names file, column, row and rule (attributes and message)."""
    bad, column, row = _materialise(case, tmp_path)
    row = case.expected_row(row)
    with pytest.raises(InputError) as ei:
        if case.target is None:
            pairs = list(zip(case.build_args[1::3], case.build_args[2::3]))
            P.parse_overrides(pairs, P.load_params(REPO / PARAMS))
        else:
            V.validate_file(case.target, bad if bad is not None else tmp_path / "absent.csv")
    err = ei.value
    file = "command line (-p)" if case.target is None else str(bad)
    assert err.file == file
    assert err.column == column
    assert err.row == row
    assert re.search(case.rule, err.rule), err.rule
    assert_names(str(err), file, column, row, case.rule)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_cli_exits_nonzero(case, tmp_path, repo_copy):
    """(b) the command line refuses: exit 1, the message on stderr, no traceback."""
    bad, column, row = _materialise(case, tmp_path / "bad")
    row = case.expected_row(row)
    if case.target is None:
        rc, out, err, started = run_build_refusal(repo_copy, *case.build_args)
        assert not started, "the build started kernels instead of refusing:\n" + out + err
        proc = subprocess.CompletedProcess([], rc, out, err)
        cmd, file = "build", "command line (-p)"
    else:
        proc = run_cli(repo_copy, "validate", FILE_OPTION[case.target], str(bad))
        cmd, file = "validate", str(bad)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert_names(cli_error(proc, cmd), file, column, row, case.rule)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_build_refuses_and_keeps_the_book(case, repo_copy):
    """(c) ``build`` on a repository holding the bad input refuses before any kernel starts and the
    last good book (every file under book/) is byte-for-byte untouched."""
    if case.target is not None:
        _materialise(case, (repo_copy / case.target).parent)
    _, column, row = case.make()
    row = case.expected_row(row)
    before = book_digest(repo_copy)
    assert before, "the copy has no book/ to protect"
    rc, out, err, started = run_build_refusal(repo_copy, *case.build_args)
    after = book_digest(repo_copy)
    assert not started, ("the build started kernels instead of refusing the bad input (stopped "
                         "there):\n" + out + err)
    assert rc == 1, out + err
    file = "command line (-p)" if case.target is None else "/".join(Path(case.target).parts[-2:])
    assert_names(cli_error(subprocess.CompletedProcess([], rc, out, err), "build"), file, column, row,
                 case.build_rule or case.rule)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"book/ or data/ changed by a refused build: {changed[:10]}"


# ------------------------------------------------------------------------------ validate itself
def test_validate_accepts_the_repository(repo_copy):
    """The committed inputs are valid: `validate` lists each and exits 0."""
    proc = run_cli(repo_copy, "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rel in V.LOADERS:
        assert f"ok: {rel}" in proc.stdout
    assert V.validate(repo_copy) == list(V.LOADERS)


def test_validate_names_unchecked_data_files(repo_copy):
    (repo_copy / "data" / "published" / "extra.csv").write_text("a\n1\n")
    (repo_copy / "data" / "derived").mkdir(exist_ok=True)
    (repo_copy / "data" / "derived" / "scorecard.csv").write_text("a\n1\n")  # an output, not an input
    unchecked = V.unchecked_files(repo_copy)
    assert "data/published/extra.csv" in unchecked
    assert "data/derived/scorecard.csv" not in unchecked
    assert not set(V.LOADERS) & set(unchecked)
    assert not any(f.endswith(".md") for f in unchecked)


def test_validate_override_paths_are_checked_instead(repo_copy, tmp_path):
    """--claims P checks P, not the default (a valid copy elsewhere passes; the default is not read)."""
    good = tmp_path / "elsewhere.csv"
    shutil.copy(repo_copy / CLAIMS, good)
    (repo_copy / CLAIMS).write_text("")  # broken default: must not be read
    files = V.input_files(repo_copy, {CLAIMS: good})
    assert files[CLAIMS] == good
    proc = run_cli(repo_copy, "validate", "--claims", str(good))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [f"ok: {good}"]   # only the file given is checked


def test_validate_reads_checks_what_the_build_reads(tmp_path):
    """validate_reads (the hook for the build's plan): loads each read file that has a loader, skips
    unchanged files already found valid (memo), and refuses a changed bad one naming the cell."""
    (tmp_path / "data" / "published").mkdir(parents=True)
    shutil.copy(REPO / CLAIMS, tmp_path / CLAIMS)
    (tmp_path / "data" / "other.txt").write_text("not an input with a loader")
    memo: dict[str, str] = {}
    assert V.validate_reads(tmp_path, [CLAIMS, "data/other.txt"], memo) == [CLAIMS]
    assert set(memo) == {CLAIMS}
    assert V.validate_reads(tmp_path, [CLAIMS], memo) == []          # unchanged: not re-read
    data, column, row = claims_n_gt_N()
    (tmp_path / CLAIMS).write_bytes(data)
    with pytest.raises(InputError) as ei:
        V.validate_reads(tmp_path, [CLAIMS], memo)                   # changed: read again
    assert (ei.value.column, ei.value.row) == (column, row + 1)      # spreadsheet row
