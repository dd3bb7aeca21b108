"""``cnncourse grade --db postgresql://...`` writes scores into a real PostgreSQL server.

The test starts a throwaway server from Debian's PostgreSQL packages (``scripts/system-deps.sh``
installs them in CI) on a free localhost port, grades two submissions of the fixture notebook
into it, and reads the scores back through nbgrader's API. It skips, saying why, only where no
PostgreSQL server can be found or started.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from fixture_course import ASSIGNMENT, CORRECT, WRONG, build_source, submission

from autograder.cli import main as cnncourse
from autograder.course import Course


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server here (initdb/pg_ctl not found; scripts/system-deps.sh installs Debian's postgresql as root)")
    pytest.importorskip("psycopg", reason="psycopg is needed for a PostgreSQL gradebook")
    # its own folder: pytest's temporary root is private to this user, and the server runs as another
    data = Path(tempfile.mkdtemp(prefix="cnncourse-pgdata-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        shutil.chown(data, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(run_as + [initdb, "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    log = data / "server.log"
    start = subprocess.run(
        run_as + [pg_ctl, "-D", str(data), "-l", str(log), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "-w", "start"],
        capture_output=True,
        text=True,
    )
    if start.returncode != 0:
        pytest.skip(f"the PostgreSQL server did not start: {start.stderr.strip() or log.read_text()[-500:]}")
    try:
        import psycopg

        for _ in range(50):
            try:
                con = psycopg.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres", autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        con.cursor().execute("CREATE DATABASE gradebook")
        con.close()
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(run_as + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.slow
def test_grades_go_into_postgresql(postgres_url, tmp_path):
    from autograder.gradebook import scores

    source = build_source(tmp_path / f"{ASSIGNMENT}.ipynb")
    course = Course(tmp_path / "course", db_url=postgres_url)
    assert cnncourse(["release", "--course", str(course.root), "--db", postgres_url, str(source)]) == 0
    for student, answers in {"alice": CORRECT, "bob": WRONG}.items():
        path = course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(submission(course.release_notebook(ASSIGNMENT), answers), str(path))
    assert cnncourse(["grade", "--course", str(course.root), "--db", postgres_url, "--jobs", "2", "--quiet"]) == 0
    table = scores(postgres_url)
    assert table == {"alice": {ASSIGNMENT: 7.0}, "bob": {ASSIGNMENT: 0.0}}
    assert not (course.root / "gradebook.db").exists()  # nothing went to SQLite by mistake
