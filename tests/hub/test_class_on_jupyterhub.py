"""A class on the course's JupyterHub, as its people meet it: nbgrader's exchange between an
instructor and two students, with ``cnncourse`` grading in the middle.

One story, in order (screenshots of each step in ``artifacts/hub/``):

1. ``classroom.py setup`` makes an instructor and two students (system users with passwords) and the
   exchange; ``classroom.py start`` starts JupyterHub on free ports.
2. The instructor logs in through the hub's login page (headless Chromium) and, in a terminal of
   her JupyterLab, releases notebook 03 with ``cnncourse release --exchange``.
3. Each student logs in, opens the Assignments tab (Nbgrader menu), fetches 03, opens it, types
   answers into two solution cells (alice right, bob partly wrong), saves and presses Submit.
4. The instructor runs ``cnncourse collect``, ``grade`` and ``export`` in her terminal: alice
   scores more than bob, and each score equals what the checks give those answers when run here,
   outside the hub and the grader's sandbox.
5. ``cnncourse feedback --release``; alice presses Fetch Feedback, follows "view feedback" and
   reads her page, with her score.
6. Bob cannot read alice's work (in her home, in the instructor's course, in the exchange) nor the
   instructor's notebooks: tried through bob's own server (a terminal there, and its contents
   API) and as bob on the machine (``runuser``). Students have no Formgrader; the instructor's
   formgrader lists both students.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "03_output_size_arithmetic.ipynb"
ASSIGNMENT = NOTEBOOK.stem

# What each student types into the solution cells that define these functions; the other exercises
# stay unanswered. alice is right (written differently from the notebook's solution); bob forgets
# the ValueError in the first and ignores dilation in the second.
ANSWERS = {
    "alice": {
        "conv_output_size": (
            "def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):\n"
            "    span = dilation * (kernel_size - 1) + 1\n"
            "    if span > n + 2 * padding:\n"
            "        raise ValueError(f'a kernel spanning {span} does not fit {n} + 2 * {padding}')\n"
            "    return (n + 2 * padding - span) // stride + 1\n"
        ),
        "same_padding": (
            "def same_padding(kernel_size, dilation=1):\n"
            "    span = dilation * (kernel_size - 1) + 1\n"
            "    if span % 2 == 0:\n"
            "        raise ValueError(f'an even effective kernel ({span}) has no centre')\n"
            "    return (span - 1) // 2\n"
        ),
    },
    "bob": {
        "conv_output_size": (
            "def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):\n"
            "    span = dilation * (kernel_size - 1) + 1\n"
            "    return (n + 2 * padding - span) // stride + 1\n"
        ),
        "same_padding": (
            "def same_padding(kernel_size, dilation=1):\n"
            "    return kernel_size // 2\n"
        ),
    },
}

# Run a shell command in the user's own server: open a terminal through its REST API, type the
# command, read what comes back until a marker that only the command's output contains, close it.
TERMINAL_JS = """async ([command, timeoutMs]) => {
    const base = JSON.parse(document.getElementById('jupyter-config-data').textContent).baseUrl;
    const xsrf = decodeURIComponent((document.cookie.split('; ').find(c => c.startsWith('_xsrf=')) || '=').split('=')[1]);
    const headers = {'X-XSRFToken': xsrf};
    const created = await fetch(base + 'api/terminals', {method: 'POST', headers});
    if (!created.ok) return {error: 'POST api/terminals: ' + created.status};
    const name = (await created.json()).name;
    const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + base + 'terminals/websocket/' + name);
    let output = '';
    socket.onmessage = (event) => { const msg = JSON.parse(event.data); if (msg[0] === 'stdout') output += msg[1]; };
    await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
    socket.send(JSON.stringify(['stdin', command + '; echo END-$((40+2))\\r']));
    const start = Date.now();
    while (!output.includes('END-42') && Date.now() - start < timeoutMs) await new Promise(r => setTimeout(r, 200));
    socket.close();
    await fetch(base + 'api/terminals/' + name, {method: 'DELETE', headers});
    return {output};
}"""


ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07)")


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def expected_score(submitted: Path, source_notebook: Path) -> float:
    """What the notebook's checks give a submission, run in this process as the notebook runs: every
    code cell of the submission in order (errors and all), then the source's test cells, hidden
    tests included, with every check's result collected."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnlib.checks.core import collecting

    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):  # the notebook's own printing
        for cell in code_cells(submitted):
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                continue
            try:
                exec(compile(source(cell), "<submission>", "exec"), namespace)
            except Exception:
                pass  # an unanswered exercise raises NotImplementedError, as it does for the student
    plt.close("all")
    with collecting() as reporter, contextlib.redirect_stdout(io.StringIO()):
        for cell in code_cells(source_notebook):
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                try:
                    exec(compile(source(cell), "<test cell>", "exec"), namespace)
                except Exception:
                    pass  # a test cell stops at a failed assertion of its own; its checks so far count
    return sum(result.earned for result in reporter.results)


class Person:
    """One person at the hub, in their own browser context."""

    def __init__(self, browser, hub, classroom, user: str, artifacts: Path):
        self.hub, self.classroom, self.user, self.artifacts = hub, classroom, user, artifacts
        self.name = user.split("-", 1)[1]  # teacher, alice, bob
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()

    def shot(self, step: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{step}_{self.name}.png"))

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", self.user)
        page.fill("#password_input", self.classroom.passwords[self.user])
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{self.user}/lab**", timeout=180_000)  # the hub starts the server
        page.wait_for_selector(".lm-MenuBar-itemLabel:text-is('Nbgrader')", timeout=180_000)

    def nbgrader_menu(self, then: str | None = None) -> list[str]:
        """Open the Nbgrader menu and read its items; click the one for the command ``then``, or close it."""
        page = self.page
        page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
        menu = page.locator(".lm-Menu-content").last
        menu.wait_for()
        items = [line.strip() for line in menu.inner_text().splitlines() if line.strip()]
        if then is None:
            page.keyboard.press("Escape")
        else:
            menu.locator(f".lm-Menu-item[data-command='{then}']").click()
        return items

    def fetch_and_open(self) -> None:
        page = self.page
        page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role("button", name="Fetch").click()
        downloaded = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
        downloaded.wait_for()
        downloaded.locator("a.assignment-notebooks-link").click()
        page.locator("#fetched_assignments_list .nested_list_item .item_name a", has_text=ASSIGNMENT).click()
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell .cm-content")

    def answer(self, answers: dict[str, str]) -> Path:
        """Type each answer over the stub of the solution cell that defines that function; save."""
        page = self.page
        for function, text in answers.items():
            cell = page.locator(".jp-NotebookPanel .jp-CodeCell").filter(has_text=f"def {function}(").first
            cell.scroll_into_view_if_needed()  # JupyterLab renders the cells near the view only
            editor = cell.locator(".cm-content")
            editor.get_by_text("raise NotImplementedError()").wait_for()  # the stub that the answer replaces
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(text)  # as typed, without the editor's auto-indentation
            page.keyboard.press("Escape")
            assert editor.inner_text().strip() == text.strip()
        cell.scroll_into_view_if_needed()
        page.keyboard.press("Control+s")
        workbook = self.classroom.home(self.user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        deadline = time.monotonic() + 60
        while not all(text.splitlines()[1] in workbook.read_text() for text in answers.values()):
            assert time.monotonic() < deadline, f"{workbook} was not saved with the answers"
            time.sleep(0.5)
        return workbook

    def submit(self) -> str:
        page = self.page
        page.locator(".lm-TabBar-tab", has_text="Assignments").click()
        page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role("button", name="Submit").click()
        stamp = page.locator("#submitted_assignments_list .nested_list_item .item_name").first
        stamp.wait_for()
        return stamp.inner_text().strip()

    def terminal(self, command: str, timeout: float = 30) -> str:
        """What ``command`` prints in a terminal of this user's JupyterLab (a login shell, as a person gets)."""
        result = self.page.evaluate(TERMINAL_JS, [command, int(timeout * 1000)])
        assert "error" not in result, result
        assert "END-42" in result["output"], f"{command!r} did not finish within {timeout:.0f} s:\n{result['output'][-3000:]}"
        return ANSI.sub("", result["output"]).replace("\r\n", "\n")

    def run(self, command: str, timeout: float = 600) -> str:
        """Run ``command`` in this user's terminal; its output, or a failed assertion when it failed."""
        output = self.terminal(f"{command}; echo rc=$?", timeout)
        status = re.findall(r"^rc=(\d+)$", output, re.MULTILINE)
        assert status == ["0"], f"{command!r} as {self.user} ended with {status}:\n{output[-3000:]}"
        return output

    def show_in_terminal(self, command: str) -> None:
        """Open a terminal in JupyterLab and type ``command``, for the screenshot of what the user sees."""
        page = self.page
        page.click(".lm-MenuBar-itemLabel:text-is('File')")
        page.hover(".lm-Menu-item[data-type='submenu']:has-text('New')")
        page.click(".lm-Menu-item[data-command='terminal:create-new']")
        page.locator(".jp-Terminal").last.wait_for()
        time.sleep(1)  # the shell's prompt
        page.locator(".jp-Terminal").last.click()
        page.keyboard.type(command + "\n")
        time.sleep(1.5)

    def close(self) -> None:
        self.context.close()


def test_a_class_on_jupyterhub(classroom, hub, browser, artifacts):
    t0 = time.monotonic()
    timings = {}
    teacher = classroom.instructor
    alice_user, bob_user = classroom.students

    # -- 1. The hub is up; its login page ----------------------------------------------------------
    login = browser.new_page(viewport={"width": 1000, "height": 700})
    login.goto(f"{hub.url}/hub/login")
    login.locator("#username_input").wait_for()
    login.screenshot(path=str(artifacts / "01_hub_login.png"))
    login.close()
    timings["hub up"] = time.monotonic() - t0

    # -- 2. The instructor logs in and releases notebook 03 to the exchange, in a terminal there -------
    instructor = Person(browser, hub, classroom, teacher, artifacts)
    instructor.log_in()
    assert "Formgrader" in instructor.nbgrader_menu()
    release = instructor.run(f"cnncourse release --exchange notebooks/{NOTEBOOK.name}")
    outbound = classroom.exchange / "cnn-course" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert "published to" in release and outbound.is_file(), release
    assert any("raise NotImplementedError()" in source(c) for c in code_cells(outbound)), "the exchange holds the solutions"
    timings["release"] = time.monotonic() - t0

    # -- 3. Each student fetches, answers, saves and submits, in the browser --------------------------
    students = {}
    for user in (alice_user, bob_user):
        student = Person(browser, hub, classroom, user, artifacts)
        students[student.name] = student
        student.log_in()
        menu = student.nbgrader_menu(then="nbgrader:open-assignment-list")  # the Assignments tab
        assert "Assignment List" in menu and "Formgrader" not in menu, f"{student.name}'s Nbgrader menu: {menu}"
        student.page.locator("#released_assignments_list_loading").wait_for(state="hidden")
        student.shot("02_assignments_released")
        student.fetch_and_open()
        workbook = student.answer(ANSWERS[student.name])
        student.shot("03_answered")
        stamp = student.submit()
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp), f"no submission time in the Submitted list: {stamp!r}"
        student.shot("04_submitted")
        assert workbook.is_file()
    timings["students submitted"] = time.monotonic() - t0

    # -- 4. The instructor collects, grades and exports ------------------------------------------------
    collect = instructor.run("cnncourse collect")
    assert "2 new submission(s)" in collect and alice_user in collect and bob_user in collect, collect
    course = classroom.home(teacher) / "course"
    for user in (alice_user, bob_user):
        timestamp = course / "submitted" / user / ASSIGNMENT / "timestamp.txt"
        assert timestamp.is_file(), f"collect kept no submission time for {user}"
    grade = instructor.run("cnncourse grade --jobs 2 --quiet")
    assert "the grader failed" not in grade, grade
    instructor.run("cnncourse export")
    rows = {row["student_id"]: row for row in csv.DictReader((course / "reports" / "grades.csv").read_text().splitlines())}
    scores = {user: float(rows[user][ASSIGNMENT]) for user in (alice_user, bob_user)}
    source_notebook = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    expected = {user: expected_score(course / "submitted" / user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", source_notebook)
                for user in (alice_user, bob_user)}
    answered_points = sum(c["metadata"]["nbgrader"]["points"] for c in code_cells(NOTEBOOK)
                          if c["metadata"].get("nbgrader", {}).get("grade_id") in {f"test_{f}" for f in ANSWERS["alice"]})
    assert scores == expected, f"the grader gave {scores}; the checks give those answers {expected}"
    assert scores[alice_user] == answered_points, f"alice answered exercises worth {answered_points} points correctly but scored {scores[alice_user]}"
    assert 0 < scores[bob_user] < scores[alice_user], scores
    instructor.show_in_terminal("ls course/submitted/*/*; cat course/reports/grades.csv")
    instructor.shot("05_collected_and_graded")
    timings["collect, grade, export"] = time.monotonic() - t0

    # -- 5. Feedback goes back; alice fetches it and reads her page --------------------------------------
    feedback = instructor.run("cnncourse feedback --release")
    assert "released 2 feedback page(s)" in feedback, feedback
    alice = students["alice"]
    alice.page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    alice.page.locator("#refresh_assignments_list").click()
    submitted = alice.page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first
    submitted.get_by_text("feedback available to fetch").wait_for()
    submitted.get_by_role("button", name="Fetch Feedback").click()
    alice.page.locator("#submitted_assignments_list a", has_text="view feedback").click()
    page_file = alice.page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
    page_file.dblclick()
    body = alice.page.frame_locator(".jp-HTMLViewer iframe").locator("body")
    body.get_by_text("Score:").wait_for()
    text = body.inner_text()
    assert alice_user in text and f"Score: {scores[alice_user]:g} / " in text, text[:1000]
    alice.shot("06_feedback")
    timings["feedback"] = time.monotonic() - t0

    # -- 6. What a student cannot read ----------------------------------------------------------------------
    bob = students["bob"]
    private = {
        "alice's notebook in her home": classroom.home(alice_user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "alice's submission collected by the instructor": course / "submitted" / alice_user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "the instructor's source notebook (solutions, hidden tests)": source_notebook,
        "the instructor's copy of the course notebook": classroom.home(teacher) / "notebooks" / NOTEBOOK.name,
    }
    for what, path in private.items():
        assert path.is_file(), f"{what}: {path} does not exist, so the test of access to it proves nothing"
    own = classroom.home(bob_user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    output = bob.terminal(f"id -un; head -c 1 {own}; echo")  # a control: bob's server can read bob's files
    assert bob_user in output and "\n{\n" in output, output
    for what, path in private.items():
        output = bob.terminal(f"head -c 1 '{path}'")
        assert "Permission denied" in output, f"bob's server could read {what} ({path}):\n{output}"
        denied = classroom.as_user(bob_user, "head", "-c", "1", str(path))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, f"bob could read {what}: {denied}"
    output = bob.terminal(f"ls {classroom.exchange / 'cnn-course' / 'inbound'}")  # Submit writes there; nobody lists it
    assert "Permission denied" in output, f"bob could list the submissions in the exchange:\n{output}"
    for relative in (f"../{alice_user}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"../{teacher}/course/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"):
        response = bob.page.request.get(f"{hub.url}/user/{bob_user}/api/contents/{relative}")
        assert response.status in (400, 403, 404), f"bob's contents API answered {response.status} for {relative}"
    assert bob.page.request.get(f"{hub.url}/user/{bob_user}/formgrader").status == 404, "a student's server serves formgrader"
    assert bob.page.request.get(f"{hub.url}/user/{alice_user}/api/contents").status == 403, "bob could open alice's server"
    inbound = classroom.exchange / "cnn-course" / "inbound"
    bob.show_in_terminal(f"id -un; head -c 1 {own}; echo; " + "; ".join(f"head -c 1 {path}" for path in private.values()) + f"; ls {inbound}")
    bob.shot("07_denied")
    timings["isolation"] = time.monotonic() - t0

    # The instructor's formgrader (its own browser tab: JupyterHub forbids framing it in Lab) lists both.
    instructor.page.goto(f"{hub.url}/user/{teacher}/formgrader/manage_students")
    for user in (alice_user, bob_user):
        instructor.page.locator("tr", has_text=user).first.wait_for()
    instructor.page.screenshot(path=str(artifacts / "08_formgrader_students.png"))
    # the hub's admin page lists the class; a student's server stays closed to the instructor too
    users = instructor.page.request.get(f"{hub.url}/hub/api/users")
    assert users.ok and {alice_user, bob_user} <= {u["name"] for u in users.json()}, users.status
    assert instructor.page.request.get(f"{hub.url}/user/{alice_user}/api/contents").status == 403, "the instructor could open alice's server"
    instructor.page.goto(f"{hub.url}/hub/admin")
    instructor.page.get_by_text(bob_user).first.wait_for()
    instructor.page.screenshot(path=str(artifacts / "09_hub_admin.png"))
    timings["formgrader"] = time.monotonic() - t0

    for student in [*students.values(), instructor]:
        student.close()
    print(f"hub {hub.url}; scores {scores}; " + ", ".join(f"{k} at {v:.0f} s" for k, v in timings.items()))
