"""Grading on a Dask cluster (``cnncourse grade --scheduler``) keeps every promise of local grading.

On a real ``LocalCluster`` with worker processes: the fixture class (honest, edited and adversarial
submissions) gets exactly the scores, check results and reports that the local process pool gives;
a worker killed in the middle of a run loses nothing and nothing is written twice; an interrupted
``grade`` resumes; progress and the summary line are the same; and a scheduler that cannot be
reached, or workers with other grading code, stop ``grade`` at once with a message that says why.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from fixture_course import ASSIGNMENT, build_source, cheat_names
from test_grade_class import GRADE_ARGS, HONEST, released_class

from autograder import engines
from autograder.cli import main as cnncourse
from autograder.course import Course

pytest.importorskip("distributed")


def _args() -> list[str]:
    """test_grade_class's options, with the progress bar (it is compared) and a call time limit long
    enough that no call can reach it by chance on a busy machine (a student's first use of
    `scipy.signal` imports it within the call): the two runs must give the very same messages."""
    args = [a for a in GRADE_ARGS if a != "--quiet"]
    args[args.index("--call-time-limit") + 1] = "20"
    return args


ARGS = _args()
# A smaller class for the runs that are interrupted: every honest kind and three slow or rough cheats.
SUBSET = sorted(HONEST) + ["cheat_infinite_loop_cell", "cheat_exit_process", "cheat_memory_bomb", "zoe"]


def _grade(course: Course, *extra) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cnncourse(["grade", "--course", str(course.root), *ARGS, *extra])
    return status, out.getvalue(), err.getvalue()


def _results(course: Course) -> dict:
    """Every stored outcome, without its run time (the one thing allowed to differ)."""
    results = {}
    for path in sorted((course.state / "results" / ASSIGNMENT).glob("*.json")):
        outcome = json.loads(path.read_text())["outcome"]
        outcome.pop("seconds")
        results[path.stem] = outcome
    return results


def _graded_state(course: Course) -> dict:
    from autograder.gradebook import scores

    return {"results": _results(course), "checks_csv": (course.reports / "checks.csv").read_text(), "scores": scores(course.db_url)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The same class graded twice at the same path (the cheats that read the course folder name
    it in their messages): on the local pool (``--jobs 2``) and on a Dask LocalCluster of two
    worker processes (``--scheduler local:2``); and an ungraded copy, for the other tests."""
    root = tmp_path_factory.mktemp("dask")
    course = released_class(root / "class")
    fresh = root / "fresh"
    shutil.copytree(course.root, fresh)
    local_run = _grade(course, "--jobs", "2")
    local = _graded_state(course)
    shutil.rmtree(course.root)
    shutil.copytree(fresh, course.root)
    dask_run = _grade(course, "--scheduler", "local:2")
    return {"course": course, "fresh": fresh, "local_run": local_run, "dask_run": dask_run, "local": local, "dask": _graded_state(course)}


def _regrade_at_the_same_path(graded, students) -> Course:
    """An ungraded copy of the class, with only ``students``, at the path the class was made at."""
    course = graded["course"]
    shutil.rmtree(course.root)
    shutil.copytree(graded["fresh"], course.root)
    for folder in course.submitted.iterdir():
        if folder.name not in students:
            shutil.rmtree(folder)
    return course


@pytest.mark.slow
def test_dask_grades_exactly_like_the_local_pool(graded):
    for run in ("local_run", "dask_run"):
        status, _, err = graded[run]
        assert status == 0, err[-3000:]
    local, dask = graded["local"], graded["dask"]
    assert len(dask["results"]) == len(HONEST) + len(cheat_names()) + 1
    for student, (_, _, points) in HONEST.items():
        assert dask["results"][student]["score"] == points
    assert dask["results"] == local["results"]  # scores, every check's points and message, the notes
    assert dask["checks_csv"] == local["checks_csv"]
    assert dask["scores"] == local["scores"]


@pytest.mark.slow
def test_progress_and_summary_are_the_same(graded):
    total = len(HONEST) + len(cheat_names()) + 1
    for run in ("local_run", "dask_run"):
        _, out, err = graded[run]
        assert f"{total}/{total}" in err and "grading: 100%" in err, err[-2000:]
        assert f"graded {total} notebooks in " in out and " s per notebook, " in out
    assert "2 jobs)" in graded["local_run"][1]
    assert "a Dask LocalCluster, 2 workers)" in graded["dask_run"][1]


def _descendants_grading(process) -> bool:
    """Whether a Dask worker process is grading a notebook now: one of its zygotes has a child."""
    for child in process.children(recursive=True):
        try:
            if "autograder.sandbox.zygote" in " ".join(child.cmdline()) and "autograder.sandbox.zygote" in " ".join(child.parent().cmdline()):
                return True
        except Exception:  # a process that ended while we looked
            continue
    return False


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_nothing_is_written_twice(graded, monkeypatch):
    psutil = pytest.importorskip("psutil")
    from autograder import gradebook, reports

    course = _regrade_at_the_same_path(graded, SUBSET)
    records, notebooks = Counter(), Counter()
    real_record, real_write = gradebook.record, reports.write_graded_notebook

    def record(db_url, outcomes, timestamps=None):
        records.update(o.student for o in outcomes)
        return real_record(db_url, outcomes, timestamps)

    def write_graded_notebook(path, student_path, source_path, outcome):
        notebooks[outcome.student] += 1
        return real_write(path, student_path, source_path, outcome)

    monkeypatch.setattr(gradebook, "record", record)
    monkeypatch.setattr(reports, "write_graded_notebook", write_graded_notebook)
    me, started = psutil.Process(), time.time()
    killed: dict = {}

    def kill_a_busy_worker():  # mid-run: once a result is in, kill a worker that is grading
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            if records:
                for child in me.children():
                    try:
                        spawned = "spawn_main" in " ".join(child.cmdline()) and child.create_time() >= started - 1
                    except psutil.Error:
                        continue
                    if spawned and _descendants_grading(child):
                        killed["pid"] = child.pid
                        child.send_signal(signal.SIGKILL)
                        break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    status, out, err = _grade(course, "--scheduler", "local:2")
    killer.join(timeout=5)
    assert status == 0, err
    assert killed, "no worker was grading a notebook after the first result: the test did not kill one"
    assert not psutil.pid_exists(killed["pid"]) or psutil.Process(killed["pid"]).status() == psutil.STATUS_ZOMBIE
    assert f"graded {len(SUBSET)} notebooks" in out
    assert records == Counter(SUBSET), records  # one gradebook write per submission, none lost
    assert notebooks == Counter(SUBSET), notebooks
    assert _results(course) == {s: r for s, r in graded["local"]["results"].items() if s in SUBSET}


@pytest.mark.slow
def test_an_interrupted_dask_run_resumes(graded, capsys):
    """Ctrl-C once the first result is saved. The whole class is graded, not SUBSET: with a few
    notebooks left, a busy machine could finish them all before the signal arrives."""
    psutil = pytest.importorskip("psutil")
    everyone = sorted(p.name for p in graded["fresh"].glob("submitted/*"))
    course = _regrade_at_the_same_path(graded, everyone)
    results = course.state / "results" / ASSIGNMENT
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", "grade", "--course", str(course.root), *ARGS, "--scheduler", "local:2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 240
        while not any(results.glob("*.json")) and time.monotonic() < deadline and grader.poll() is None:
            time.sleep(0.1)
        assert grader.poll() is None, "grade finished before it could be interrupted"
        helpers = psutil.Process(grader.pid).children(recursive=True)
        grader.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out, err = grader.communicate(timeout=120)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 130, err[-3000:]
    assert "interrupted after" in out and "run `cnncourse grade` again" in out
    gone, alive = psutil.wait_procs(helpers, timeout=30)
    assert not alive, f"left running after the interruption: {[p.cmdline() for p in alive]}"
    done = len(list(results.glob("*.json")))
    assert 1 <= done < len(everyone)
    capsys.readouterr()
    status, out, err = _grade(course, "--scheduler", "local:2")
    assert status == 0, err
    assert f"{done} submission(s) unchanged" in out and f"graded {len(everyone) - done} notebooks" in out
    assert _results(course) == graded["local"]["results"]
    from autograder.gradebook import scores

    assert scores(course.db_url) == graded["local"]["scores"]


@pytest.mark.slow
def test_a_cluster_started_as_the_readme_says_and_a_lost_scheduler(graded, tmp_path):
    """`dask scheduler` and `dask worker ... --nworkers 2 --nthreads 1` started as separate
    processes grade like the local pool; when the scheduler dies in the middle of a run, `grade`
    stops with a message that says so, keeps what it received, and the next run grades the rest."""
    from distributed import Client

    course = _regrade_at_the_same_path(graded, SUBSET)
    results = course.state / "results" / ASSIGNMENT
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "w"), start_new_session=True)
    workers = subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=open(tmp_path / "workers.log", "w"), start_new_session=True)
    try:
        with Client(address, timeout=120, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=240)
        outcome: dict = {}
        grading = threading.Thread(target=lambda: outcome.update(run=_grade(course, "--scheduler", address)))
        grading.start()
        deadline = time.monotonic() + 240
        while len(list(results.glob("*.json"))) < 2 and time.monotonic() < deadline and grading.is_alive():
            time.sleep(0.1)
        scheduler.kill()
        grading.join(timeout=180)
        assert not grading.is_alive(), "grade did not stop after the scheduler died"
    finally:
        for process in (scheduler, workers):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    status, out, err = outcome["run"]
    assert status == 1, err[-3000:]
    assert f"lost the connection to the Dask scheduler at {address}" in err and "interrupted after" in out
    done = len(list(results.glob("*.json")))
    assert 2 <= done < len(SUBSET)
    kept = _results(course)
    assert kept == {s: r for s, r in graded["local"]["results"].items() if s in kept}
    status, out, err = _grade(course, "--scheduler", "local:2")
    assert status == 0, err
    assert f"{done} submission(s) unchanged" in out
    assert _results(course) == {s: r for s, r in graded["local"]["results"].items() if s in SUBSET}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_named_at_once(tmp_path):
    course = Course(tmp_path / "course")
    (course.source / ASSIGNMENT).mkdir(parents=True)
    build_source(course.source_notebook(ASSIGNMENT))
    (course.submitted / "alice" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(course.source_notebook(ASSIGNMENT), course.submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    shutil.copytree(course.source, course.release_dir)  # as if released (grade would run nbgrader to release it)
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    status, _, err = _grade(course, "--scheduler", address)
    elapsed = time.monotonic() - start
    assert status == 2
    assert f"could not connect to the Dask scheduler at {address}" in err and "Connection refused" in err
    assert elapsed < 30, f"took {elapsed:.0f} s"
    assert not (course.state / "results").exists()


def test_something_that_is_not_a_scheduler_does_not_hang_grade():
    """A port where something else listens (here: a server that accepts and never answers, as a
    web server waiting for a request does) fails within the connect timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    engine = engines.engine_for(address, jobs=1, log_dir="unused")
    engine.connect_timeout = 2
    start = time.monotonic()
    try:
        with pytest.raises(engines.EngineUnavailable, match=f"at {address} within 2 s"):
            engine.__enter__()
    finally:
        server.close()
    assert time.monotonic() - start < 20


@pytest.mark.slow
def test_workers_with_other_grading_code_are_refused(monkeypatch):
    from autograder.engines import runner

    monkeypatch.setattr(runner, "grader_fingerprint", lambda: "this grader's code is different")
    engine = engines.engine_for("local:1", jobs=1, log_dir="unused")
    with pytest.raises(engines.EngineUnavailable, match="1 of 1 Dask worker.* different grading code"):
        with engine:
            pass
    assert engine.client is None and engine.cluster is None


def test_a_grading_process_with_other_code_refuses_to_grade():
    from autograder.engines import AssignmentFiles, Submission, runner

    files = AssignmentFiles(ASSIGNMENT, b"{}", None)
    with pytest.raises(runner.GraderMismatch, match="differs from the grader's"):
        runner.grade_submission(Submission("alice", ASSIGNMENT, "key", b"{}"), files, {"fingerprint": "0" * 64})


@pytest.mark.parametrize("value", ["local:2", "tcp://10.0.0.5:8786", "tls://grader.example.org:8786", "tcp://[::1]:8786"])
def test_scheduler_addresses_accepted(value):
    assert engines.parse_scheduler(value) == value


@pytest.mark.parametrize("value", ["10.0.0.5:8786", "local:0", "local", "http://host:8787", "tcp://host:port"])
def test_scheduler_addresses_refused_with_the_expected_form(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cnncourse(["grade", "--scheduler", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert repr(value) in err and "tcp://HOST:PORT" in err and "local:N" in err


def test_a_tls_scheduler_without_certificates_says_which_settings_to_make():
    import dask

    with dask.config.set({"distributed.comm.tls.ca-file": None, "distributed.comm.tls.client.cert": None}):
        engine = engines.engine_for("tls://127.0.0.1:8786", jobs=1, log_dir="unused")
        with pytest.raises(engines.EngineUnavailable, match="DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"):
            engine.__enter__()
