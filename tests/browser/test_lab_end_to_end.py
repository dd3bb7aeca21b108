"""The course as its users meet it, in a real browser: JupyterLab 4 with nbgrader's extensions.

One story, in order:

1. The instructor releases notebook 01 with ``cnncourse release`` into a fresh course folder; a
   student gets the student version (solutions replaced by ``raise NotImplementedError()``).
2. The student opens it in JupyterLab (headless Chromium), types a correct ``cross_correlate1d``
   into its solution cell and runs all cells. Like a person, the test carries on after each
   error: JupyterLab stops a run at the first failing cell, so it selects the next cell and runs
   "Run Selected Cell and All Below" until every cell has run.
3. The page must show the figures as images, the answered exercise's check printing its pass line
   (``✔ <title> [1 point]``), and every unanswered exercise's test cell a ``NotImplementedError``.
4. The student saves and presses nbgrader's Validate button; the dialog lists the unanswered
   exercises and not the answered one.
5. The instructor grades the saved notebook with ``cnncourse grade`` and opens nbgrader's
   formgrader from JupyterLab's Nbgrader menu: the student is there with the points earned.

Screenshots of each step go to ``artifacts/browser/``.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from browserkit import IDLE_JS, REPO, cnncourse, code_cells, grade_id, shot, source

ARTIFACTS = REPO / "artifacts" / "browser"  # the same folder as conftest's fixtures write to
pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "01_convolution_vs_cross_correlation.ipynb"
ASSIGNMENT = NOTEBOOK.stem
ANSWERED = "cross_correlate1d"
# What the student types: a correct answer, written differently from the notebook's solution.
ANSWER = (
    "def cross_correlate1d(x, w):\n"
    "    k = len(w)\n"
    "    return np.array([np.dot(x[t:t + k], w) for t in range(len(x) - k + 1)])\n"
)
STUDENT = "alice"

# Per code cell, in order: prompt, output text, figures shown (PNG images that decoded), whether
# the output holds an error.
CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')).map(cell => ({
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    output: (cell.querySelector('.jp-OutputArea') || {}).innerText || '',
    images: Array.from(cell.querySelectorAll('.jp-OutputArea-output img'))
        .filter(img => img.src.startsWith('data:image/png') && img.naturalWidth > 0).length,
}))"""
BUSY_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'))
    .some(p => p.textContent.includes('*'))"""


def run_menu(page, command: str) -> None:
    """Click JupyterLab's Run menu, then the item for ``command``."""
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(f".lm-Menu-item[data-command='{command}']")


def wait_until_done(page, timeout_ms: int = 240_000) -> None:
    """Wait for a run to start (a ``[*]`` prompt), then for every cell to finish and the kernel to idle."""
    try:
        page.wait_for_function(BUSY_JS, timeout=10_000)
    except Exception:
        pass  # it may already have finished
    page.wait_for_function(f"() => !({BUSY_JS})() && ({IDLE_JS})()", timeout=timeout_ms)


def run_every_cell(page) -> int:
    """Run All Cells, then after each error "Run Selected Cell and All Below" from the next cell."""
    run_menu(page, "runmenu:run-all")
    wait_until_done(page)
    restarts, last = 0, -1
    while True:
        prompts = [c["prompt"].strip() for c in page.evaluate(CELLS_JS)]
        if "[ ]:" not in prompts:
            return restarts
        first = prompts.index("[ ]:")
        assert first > last, f"the run makes no progress past code cell {first}: prompts {prompts}"
        last = first
        page.locator(".jp-NotebookPanel .jp-CodeCell").nth(first).locator(".jp-InputPrompt").click()
        run_menu(page, "notebook:run-all-below")
        wait_until_done(page)
        restarts += 1


def test_student_and_instructor_in_jupyterlab(jupyterlab, page, tmp_path):
    t0 = time.monotonic()
    timings = {}
    root = jupyterlab.root
    env = jupyterlab.env()

    # -- 1. The instructor releases notebook 01 while JupyterLab starts ------------------------------
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")  # formgrader's course: ./course
    jupyterlab.start()
    release = subprocess.run(
        cnncourse("release", "--no-manifest", "--course", "course", str(NOTEBOOK)),
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    student_version = root / "course" / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert student_version.is_file(), release.stdout
    workbook = root / f"{ASSIGNMENT}.ipynb"  # the student's own copy
    shutil.copyfile(student_version, workbook)
    cells = code_cells(workbook)
    assert any("raise NotImplementedError()" in source(c) for c in cells), "the released notebook still has its solutions"
    jupyterlab.wait_ready()
    timings["release and server start"] = time.monotonic() - t0

    # -- 2. The student opens the notebook and answers one exercise ---------------------------------
    page.goto(f"{jupyterlab.url}/lab/tree/{workbook.name}?token={jupyterlab.token}")
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {len(cells)}", timeout=120_000)
    page.wait_for_function(IDLE_JS, timeout=120_000)
    shot(page, ARTIFACTS / "01_notebook_opened.png")

    solution_index = next(i for i, c in enumerate(cells) if grade_id(c) == ANSWERED)
    test_index = next(i for i, c in enumerate(cells) if grade_id(c) == f"test_{ANSWERED}")
    solution_cell = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(solution_index)
    assert "raise NotImplementedError()" in solution_cell.locator(".cm-content").inner_text()
    solution_cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(ANSWER)  # as typed, without the editor's auto-indentation
    page.keyboard.press("Escape")
    assert solution_cell.locator(".cm-content").inner_text().strip() == ANSWER.strip()
    timings["open and answer"] = time.monotonic() - t0

    # -- 3. Run all cells and read the page --------------------------------------------------------
    restarts = run_every_cell(page)
    timings["run all cells"] = time.monotonic() - t0
    shown = page.evaluate(CELLS_JS)
    assert len(shown) == len(cells)
    assert all(c["prompt"].strip() not in ("[ ]:", "[*]:") for c in shown), [c["prompt"] for c in shown]

    # Figures: every cell that shows a figure and did not stop with an error shows it as a PNG image.
    figure_cells = [i for i, c in enumerate(cells) if "plt.show()" in source(c)]
    drawn = [i for i in figure_cells if shown[i]["images"] > 0]
    missing = [i for i in figure_cells if shown[i]["images"] == 0 and "Error" not in shown[i]["output"]]
    assert not missing, f"code cells {missing} ran without error but show no image:\n" + "\n".join(shown[i]["output"][:300] for i in missing)
    assert len(drawn) >= 3, f"only {len(drawn)} figures rendered as images (cells {drawn})"

    # The answered exercise: its visible check passes and prints its line; no error in the cell.
    from cnnlib.checks import nb01

    check = nb01.cross_correlate1d_examples
    pass_line = f"\u2714 {check.title} [{check.points:g} point"
    answered_output = shown[test_index]["output"]
    assert pass_line in answered_output, f"expected {pass_line!r} in the test cell's output, got:\n{answered_output}"
    assert "Error" not in answered_output, answered_output

    # Every unanswered exercise: its test cell stops with NotImplementedError.
    unanswered = {grade_id(c): i for i, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade") and grade_id(c) != f"test_{ANSWERED}"}
    assert unanswered, "notebook 01 has no other graded exercise"
    for name, index in unanswered.items():
        assert "NotImplementedError" in shown[index]["output"], f"{name}: expected NotImplementedError, got:\n{shown[index]['output'][:1000]}"

    page.evaluate("(i) => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')[i].scrollIntoView({block: 'start'})", solution_index)
    shot(page, ARTIFACTS / "02_answered_exercise_passes.png")
    first_figure = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(drawn[0])
    first_figure.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
    shot(page, ARTIFACTS / "03_figure.png")
    first_unanswered = min(unanswered.values())
    page.evaluate("(i) => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')[i].scrollIntoView({block: 'start'})", first_unanswered)
    shot(page, ARTIFACTS / "04_unanswered_not_implemented.png")

    # -- 4. Save, hand in, and validate from the toolbar -------------------------------------------
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while "np.dot(x[t:t + k], w)" not in workbook.read_text():
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.5)
    submission = root / "course" / "submitted" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    submission.parent.mkdir(parents=True)
    shutil.copyfile(workbook, submission)
    # The instructor grades while the student validates.
    grading = subprocess.Popen(
        cnncourse("grade", "--course", "course", "--jobs", "1", "--quiet"),
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=240_000)
        validation = dialog.inner_text()
        shot(page, ARTIFACTS / "05_validate_dialog.png")
        assert "NotImplementedError" in validation, validation[:2000]
        assert f"nb01.cross_correlate1d_examples({ANSWERED})" not in validation, "the answered exercise is listed as failing"
        dialog.locator(".jp-Dialog-button").last.click()
        timings["save and validate"] = time.monotonic() - t0
        grade_output, _ = grading.communicate(timeout=300)
    finally:
        if grading.poll() is None:
            grading.kill()
            grading.wait()
    assert grading.returncode == 0, grade_output
    assert "the grader failed" not in grade_output, f"cnncourse grade could not grade the submission:\n{grade_output}"
    checks_csv = (root / "course" / "reports" / "checks.csv").read_text()
    assert f"\n{STUDENT},{ASSIGNMENT}," in checks_csv, f"no check results for {STUDENT}:\n{grade_output}"
    timings["grade"] = time.monotonic() - t0

    # -- 5. The instructor opens formgrader from the Nbgrader menu ---------------------------------
    earned = next(c["metadata"]["nbgrader"]["points"] for c in cells if grade_id(c) == f"test_{ANSWERED}")
    total = sum(c["metadata"]["nbgrader"].get("points", 0) for c in cells if c["metadata"].get("nbgrader", {}).get("grade"))
    page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
    page.click(".lm-Menu-item[data-command='nbgrader:open-formgrader']")
    formgrader = page.frame_locator(".jp-MainAreaWidget iframe")
    formgrader.get_by_text(ASSIGNMENT).first.wait_for(timeout=120_000)
    shot(page, ARTIFACTS / "06_formgrader_assignments.png")
    formgrader.locator("a:has-text('Manage Students')").first.click()
    row = formgrader.locator("tr", has_text=STUDENT)
    row.first.wait_for(timeout=60_000)
    assert f"{earned:g} / {total:g}" in row.first.inner_text(), row.first.inner_text()
    shot(page, ARTIFACTS / "07_formgrader_students.png")
    row.first.locator("a").first.click()
    formgrader.get_by_text(ASSIGNMENT).first.wait_for(timeout=60_000)
    shot(page, ARTIFACTS / "08_formgrader_student.png")
    timings["formgrader"] = time.monotonic() - t0

    print(f"JupyterLab {jupyterlab.url}; run-all continued {restarts} time(s) after an error; {len(drawn)} figures; "
          + ", ".join(f"{k} at {v:.0f} s" for k, v in timings.items()))
