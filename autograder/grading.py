"""Grade one submitted notebook: run the student's code in a sandboxed worker, run the
instructor's test cells in this (trusted) process against it, and collect per-check credit.

The flow for one notebook:

1. fork a worker from the zygote; run the instructor's ``setup`` cells, then the student's
   solution and added cells (each scanned first; a cell that crashes or hangs the worker is
   reported and left out, and the worker is restarted without it);
2. for each test cell of the *source* notebook (hidden tests included), look up the names it uses
   in the worker (plain data comes back as data, everything else as :class:`RemoteObject`), then
   execute the cell here under a collecting reporter, so every check it calls records its own
   points and message;
3. a cell earns the points of the checks it passed (at most its nbgrader points).
"""

from __future__ import annotations

import builtins
import importlib
import time
from dataclasses import asdict, dataclass, field

from cnnlib.checks.core import CheckSetupError, Missing, StudentError, collecting
from cnnlib.variants import DEFAULT as DEFAULT_VARIANT
from cnnlib.variants import Variant
from cnnlib.variants import grading as grading_variant

from . import codec
from .notebook import Cell, NotebookPlan, defined_names, free_names, student_code
from .sandbox.client import RemoteObject, WorkerDied, WorkerTimeout, Zygote, student_error
from .sandbox.policy import Policy, scan_cell, strip_magics
from .variants import variant_report

MAX_RESTARTS = 4


@dataclass
class CheckOutcome:
    name: str
    title: str
    points: float
    earned: float
    passed: bool
    message: str
    hidden: bool


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    earned: float
    checks: list[CheckOutcome] = field(default_factory=list)
    error: str | None = None


@dataclass
class NotebookOutcome:
    notebook: str
    cells: list[CellOutcome]
    notes: list[str]
    seconds: float = 0.0
    student: str = ""
    assignment: str = ""
    variant: dict = field(default_factory=dict)  # the student's varied questions (autograder.variants.variant_report)

    @property
    def score(self) -> float:
        return sum(c.earned for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)

    def to_json(self) -> dict:
        data = asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        return data

    @classmethod
    def from_json(cls, data: dict) -> "NotebookOutcome":
        cells = [
            CellOutcome(c["grade_id"], c["points"], c["earned"], [CheckOutcome(**k) for k in c["checks"]], c.get("error"))
            for c in data["cells"]
        ]
        return cls(data["notebook"], cells, list(data["notes"]), data.get("seconds", 0.0), data.get("student", ""), data.get("assignment", ""), data.get("variant") or {})


def policy_for(plan: NotebookPlan, base: Policy) -> Policy:
    """The notebook's import policy: its checks modules' ``FORBIDDEN_IMPORTS`` added to ``base``."""
    forbidden = list(base.forbidden_imports)
    reason = ""
    for module_name in plan.checks_modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        forbidden.extend(getattr(module, "FORBIDDEN_IMPORTS", ()))
        reason = reason or getattr(module, "IMPORT_REASON", "")
    policy = Policy(tuple(dict.fromkeys(forbidden)), base.data_dirs, base.cell_time_limit, base.memory_limit_mb, base.cpu_time_limit)
    policy.extra["import_reason"] = reason
    return policy


class Session:
    """A student's notebook loaded in a worker; survives crashes by restarting without the culprit."""

    def __init__(self, zygote: Zygote, plan: NotebookPlan, cells: list[Cell], policy: Policy, *, denied_roots, deadline: float, call_time_limit: float):
        self.zygote = zygote
        self.plan = plan
        self.cells = cells
        self.policy = policy
        self.denied_roots = tuple(denied_roots)
        self.deadline = deadline
        self.call_time_limit = call_time_limit
        self.worker = None
        self.generation = 0
        self.restarts = 0
        self.skipped: dict[int, str] = {}  # cell index -> why it was not run
        self.cell_errors: dict[int, str] = {}
        self.notes: list[str] = []
        self.setup_error: str | None = None
        self.variant: dict = {}  # whose numbers the notebook's questions use (cnnlib.variants), set by grade_notebook

    # -- running cells -------------------------------------------------------------------------

    def _fork(self):
        config = {"policy": self.policy.to_json(), "import_reason": self.policy.extra.get("import_reason", ""), "denied_roots": list(self.denied_roots), "variant": self.variant}
        self.worker = self.zygote.fork(config)
        self.generation += 1

    def _time_left(self) -> float:
        return self.deadline - time.monotonic()

    def _run(self, cell: Cell, source: str, kind: str) -> None:
        limit = min(self.policy.cell_time_limit, max(self._time_left(), 1.0))
        reply, _ = self.worker.request({"op": "run_cell", "source": source, "kind": kind, "label": cell.index + 1}, timeout=limit)
        if not reply.get("ok"):
            err = reply.get("error") or {}
            text = f"{err.get('type')}: {err.get('message')}" if err.get("message") else str(err.get("type"))
            if err.get("where"):
                text += f" ({err['where']})"
            if kind == "setup":
                self.setup_error = text
            else:
                self.cell_errors[cell.index] = text

    def scan(self) -> None:
        """Decide once which student cells cannot be run (syntax errors, disallowed constructs)."""
        for cell in self.cells:
            code, dropped = strip_magics(cell.source)
            if dropped:
                self.notes.append(f"cell {cell.index + 1}: IPython magics and shell commands are not run when grading ({len(dropped)} line(s) left out)")
            problems = scan_cell(code, self.policy.all_forbidden_imports())
            if problems:
                self.skipped[cell.index] = "; ".join(problems)

    def load(self) -> None:
        """Fork a worker and run setup + student cells, leaving out any cell that kills the worker."""
        while True:
            self._fork()
            current = None
            try:
                for cell in self.plan.setup:
                    self._run(cell, cell.source, "setup")
                for cell in self.cells:
                    if cell.index in self.skipped:
                        continue
                    current = cell
                    self._run(cell, strip_magics(cell.source)[0], "student")
                return
            except (WorkerDied, WorkerTimeout) as exc:
                if current is None:  # the instructor's setup itself failed: nothing to leave out
                    self.setup_error = f"the setup cells could not run ({exc})"
                    self.worker = None
                    return
                why = (
                    "it did not finish within the time limit"
                    if isinstance(exc, WorkerTimeout)
                    else "it ended the grading process (a crash, os._exit, or the memory limit)"
                )
                self.skipped[current.index] = why
                self.restarts += 1
                if self.restarts > MAX_RESTARTS or self._time_left() <= 0:
                    self.worker = None
                    return

    def _ensure_worker(self) -> bool:
        if self.worker is not None and not self.worker.dead:
            return True
        if self.restarts > MAX_RESTARTS or self._time_left() <= 0:
            return False
        self.restarts += 1
        self.load()
        return self.worker is not None and not self.worker.dead

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    # -- answering the checks ------------------------------------------------------------------

    def why_missing(self, name: str) -> str:
        for cell in self.cells:
            if name in defined_names(cell.source):
                if cell.index in self.skipped:
                    return f"the cell that defines it (cell {cell.index + 1}) was not run: {self.skipped[cell.index]}"
                if cell.index in self.cell_errors:
                    return f"the cell that defines it (cell {cell.index + 1}) raised {self.cell_errors[cell.index]}"
        return ""

    def _wrap(self, value):
        if isinstance(value, codec.Handle):
            return RemoteObject(self, value)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v) for k, v in value.items()}
        return value

    def lookup(self, names: list[str]) -> dict:
        if not names:
            return {}
        if not self._ensure_worker():
            return {n: Missing(n, "your notebook could not be run") for n in names}
        try:
            reply, blobs = self.worker.request({"op": "lookup", "names": names}, timeout=30)
        except (WorkerDied, WorkerTimeout):
            return {n: Missing(n, "the grading process ended while reading it") for n in names}
        values = {}
        for name, data in reply["values"].items():
            value = codec.decode(data, blobs)
            if isinstance(value, Missing):
                value = Missing(name, self.why_missing(name))
            elif isinstance(value, codec.Handle):
                value = RemoteObject(self, value, name)
            else:
                value = self._wrap(value)
            values[name] = value
        return values

    def _unwrap(self, value):
        if isinstance(value, RemoteObject):
            if value._generation != self.generation:
                raise StudentError("ProcessDied_", "this object was lost when an earlier call ended the grading process")
            return value._handle
        if isinstance(value, list):
            return [self._unwrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._unwrap(v) for k, v in value.items()}
        return value

    def remote_request(self, target: RemoteObject, message: dict, args: list, kwargs: dict, time_limit: float | None):
        """Run a call or probe in the worker; returns ``(value, report)`` like ``run_student``."""
        report = {"error": None, "violation": None, "mutated": []}
        if self._time_left() <= 0:
            report["error"] = StudentError("TimeoutError_", "not run: the time limit for this notebook was used up")
            return None, report
        if not self._ensure_worker():
            report["error"] = StudentError("ProcessDied_", "not run: your notebook's code could not be kept running")
            return None, report
        if target._generation != self.generation and target._origin_name:
            fresh = self.lookup([target._origin_name]).get(target._origin_name)
            if isinstance(fresh, RemoteObject):
                target = fresh
        try:
            handle = self._unwrap(target)
            unwrapped_args = self._unwrap(list(args))
            unwrapped_kwargs = self._unwrap(dict(kwargs))
        except StudentError as exc:
            report["error"] = exc
            return None, report
        blobs: list = []
        message = dict(message, target=handle.handle_id, args=codec.encode(unwrapped_args, blobs), kwargs=codec.encode(unwrapped_kwargs, blobs))
        limit = min(time_limit or self.call_time_limit, max(self._time_left(), 1.0))
        try:
            reply, out_blobs = self.worker.request(message, blobs, timeout=limit)
        except WorkerTimeout:
            report["error"] = StudentError("TimeoutError_", f"did not finish within {limit:g} s (an infinite loop, or far too slow)")
            return None, report
        except WorkerDied:
            report["error"] = StudentError("ProcessDied_", "ended the grading process (a crash, os._exit, or the memory limit)")
            return None, report
        value = self._wrap(codec.decode(reply["value"], out_blobs))
        r = reply["report"]
        report.update(error=student_error(r.get("error")), violation=r.get("violation"), mutated=list(r.get("mutated", [])))
        return value, report


def run_test_cell(cell: Cell, session: Session | None, *, visible_only: bool = False) -> CellOutcome:
    """Execute one instructor test cell here, against the student's objects in the worker."""
    source = cell.source
    if visible_only:
        source = _strip_hidden(source)
    outcome = CellOutcome(cell.grade_id or f"cell-{cell.index + 1}", cell.points, 0.0)
    names = free_names(source)
    values = session.lookup(names) if session is not None else {n: Missing(n, "your notebook could not be run") for n in names}
    namespace = {"__builtins__": builtins, "__name__": "__cnncourse_test__", **values}
    error = None
    with collecting() as reporter:
        try:
            exec(compile(source, f"<test {outcome.grade_id}>", "exec"), namespace)
        except CheckSetupError:  # the grader's machine lacks something: not the student's 0, stop this notebook
            raise
        except Exception as exc:  # an assertion or error outside any check
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if "### BEGIN HIDDEN TESTS" in source:  # its message could show hidden values
                error = f"{type(exc).__name__} (details withheld: the cell has hidden tests)"
    for result in reporter.results:
        outcome.checks.append(CheckOutcome(result.name, result.title, result.points, result.earned, result.passed, result.message, result.hidden))
    if outcome.checks:
        outcome.earned = min(cell.points, sum(c.earned for c in outcome.checks))
    else:  # a plain nbgrader test cell: all or nothing
        outcome.earned = cell.points if error is None else 0.0
    outcome.error = error
    return outcome


def _strip_hidden(source: str) -> str:
    out, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def grade_notebook(
    zygote: Zygote,
    plan: NotebookPlan,
    student_cells: list[Cell],
    *,
    base_policy: Policy = Policy(),
    denied_roots: tuple[str, ...] = (),
    time_limit: float = 900.0,
    call_time_limit: float = 30.0,
    visible_only: bool = False,
    variant: Variant | None = None,
) -> NotebookOutcome:
    """Grade one student notebook against ``plan``; never raises for anything the student did.

    ``variant`` is whose numbers the varied questions have (``cnnlib.variants``; default: the
    course's default numbers). The student's code sees it in its sandbox, and the checks here
    compute the answers for it; nothing the notebook says changes it.
    """
    start = time.monotonic()
    variant = variant or DEFAULT_VARIANT
    code = student_code(plan, student_cells)
    policy = policy_for(plan, base_policy)
    session = Session(zygote, plan, code.cells, policy, denied_roots=denied_roots, deadline=start + time_limit, call_time_limit=call_time_limit)
    session.variant = variant.to_json()
    notes = list(code.notes)
    try:
        session.scan()
        session.load()
        if session.setup_error:
            notes.append(f"the assignment's setup cell failed while grading: {session.setup_error} (tell your instructor)")
        with grading_variant(variant):
            cells = [run_test_cell(cell, session, visible_only=visible_only) for cell in plan.tests]
    finally:
        session.close()
    report = {} if visible_only else variant_report(plan, variant, student_cells)  # the self-check shows no answers
    if report.get("mismatch"):
        notes.insert(0, report["mismatch"])
    notes.extend(session.notes)
    for index, why in sorted(session.skipped.items()):
        notes.append(f"cell {index + 1} was not run: {why}")
    for index, err in sorted(session.cell_errors.items()):
        notes.append(f"cell {index + 1} raised {err}")
    return NotebookOutcome(plan.name, cells, notes, time.monotonic() - start, variant=report)
