"""Notebook 03's convolution explorer in a real browser: JupyterLab 4 with the ipywidgets front end.

1. The instructor releases notebook 03; the student opens the student version in JupyterLab
   (headless Chromium) and runs the imports cell and the explorer's cell.
2. The sliders render as widgets (the ipywidgets front end is active: no plain-text fallback),
   with the formula line and the figure under them.
3. The student moves the stride slider: the figure changes (the PNG the kernel sent, and the
   pixels on the screen) and the formula line shows the new numbers and output size.
4. The student makes the kernel too large for the input: the library's error takes the figure's
   place; one step back and the figure returns.

Screenshots of each step go to ``artifacts/browser/``.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import time

import numpy as np
import pytest
from browserkit import IDLE_JS, REPO, cnncourse, code_cells, shot, source

from cnnlib import arithmetic as arith

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "03_output_size_arithmetic.ipynb"
ASSIGNMENT = NOTEBOOK.stem
EXPLORER_CALL = "viz.conv_arithmetic_explorer()"
IMPORTS = "from cnnlib import viz"

# The explorer's output area, its formula line, its figure, and the state of its widgets.
OUTPUT_JS = """(i) => {
    const cell = document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')[i];
    const area = cell.querySelector('.jp-OutputArea');
    const img = area ? area.querySelector('.jp-OutputArea-output img') : null;
    const text = area ? area.querySelector('.cnnlib-explorer-text') : null;
    const error = area ? area.querySelector('.cnnlib-explorer-error') : null;
    return {
        prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
        output: area ? area.innerText : '',
        sliders: area ? area.querySelectorAll('.widget-slider').length : 0,
        image: img && img.naturalWidth > 0 ? img.src : null,
        text: text ? text.innerText : null,
        error: error ? error.innerText : null,
    };
}"""


def run_cell(page, index: int) -> None:
    """Select code cell ``index`` by its prompt and run it (Shift+Enter in command mode)."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def slider(page, index: int, name: str):
    """The ipywidgets slider labelled ``name`` in code cell ``index``."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)
    return cell.locator(".widget-slider", has=page.locator(f".widget-label:text-is('{name}')"))


def set_slider(page, index: int, name: str, value: int) -> None:
    """Type ``value`` into the slider's readout (ipywidgets 8 makes it editable) and press Enter."""
    readout = slider(page, index, name).locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")


def png_pixels(data: bytes) -> np.ndarray:
    """RGB values 0..255 of a PNG."""
    from matplotlib import image

    return (image.imread(io.BytesIO(data), format="png")[..., :3] * 255).astype(np.int16)


def changed_fraction(before: bytes, after: bytes) -> float:
    """Fraction of pixels that differ between two PNGs (1.0 when their sizes differ)."""
    a, b = png_pixels(before), png_pixels(after)
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b).sum(axis=2) > 30).mean())


def image_bytes(src: str) -> bytes:
    assert src.startswith("data:image/png;base64,"), src[:80]
    return base64.b64decode(src.split(",", 1)[1])


def test_conv_explorer_redraws_in_jupyterlab(jupyterlab, page, artifacts):
    root = jupyterlab.root
    env = jupyterlab.env()
    jupyterlab.start()
    release = subprocess.run(
        cnncourse("release", "--no-manifest", "--course", "course", str(NOTEBOOK)),
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    student_version = root / "course" / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    workbook = root / f"{ASSIGNMENT}.ipynb"
    shutil.copyfile(student_version, workbook)
    cells = code_cells(workbook)
    assert any("raise NotImplementedError()" in source(c) for c in cells), "the released notebook still has its solutions"
    imports = next(i for i, c in enumerate(cells) if IMPORTS in source(c))
    explorer = next(i for i, c in enumerate(cells) if source(c).strip() == EXPLORER_CALL)
    jupyterlab.wait_ready()

    # -- 1. Open the student version and run the imports, then the explorer -------------------------
    page.goto(f"{jupyterlab.url}/lab/tree/{workbook.name}?token={jupyterlab.token}")
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {len(cells)}", timeout=120_000)
    page.wait_for_function(IDLE_JS, timeout=120_000)
    run_cell(page, imports)
    page.wait_for_function(f"() => ({OUTPUT_JS})({imports}).prompt.trim() !== '[*]:' && ({OUTPUT_JS})({imports}).prompt.trim() !== '[ ]:'", timeout=120_000)
    assert "Error" not in page.evaluate(OUTPUT_JS, imports)["output"]
    run_cell(page, explorer)

    # -- 2. Widgets, formula and figure are on the page ----------------------------------------------
    page.wait_for_function(f"() => {{ const o = ({OUTPUT_JS})({explorer}); return o.sliders >= 6 && o.image && o.text; }}", timeout=120_000)
    before = page.evaluate(OUTPUT_JS, explorer)
    assert "[controls:" not in before["output"], "the widgets rendered as plain text: the ipywidgets front end is not active"
    assert "Error displaying widget" not in before["output"], before["output"]
    stride_2 = arith.conv_output_size(5, 3, stride=2, padding=1)
    assert f"/ 2⌋ + 1 = {stride_2}" in before["text"], before["text"]
    output_area = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(explorer).locator(".jp-OutputArea")
    output_area.scroll_into_view_if_needed()
    screen_before = output_area.screenshot(path=str(artifacts / "explorer_01_default.png"))

    # -- 3. Move the stride slider: the figure and the formula follow --------------------------------
    set_slider(page, explorer, "stride", 1)
    page.wait_for_function(f"(old) => {{ const o = ({OUTPUT_JS})({explorer}); return o.image && o.image !== old && o.text && o.text.includes('/ 1⌋'); }}",
                           arg=before["image"], timeout=60_000)
    after = page.evaluate(OUTPUT_JS, explorer)
    stride_1 = arith.conv_output_size(5, 3, stride=1, padding=1)
    assert f"/ 1⌋ + 1 = {stride_1}" in after["text"], after["text"]
    assert after["text"] != before["text"]
    sent = changed_fraction(image_bytes(before["image"]), image_bytes(after["image"]))
    assert sent > 0.01, f"the figure the kernel sent barely changed ({sent:.1%} of its pixels)"
    time.sleep(0.5)  # let the new image paint before the screenshot
    screen_after = output_area.screenshot(path=str(artifacts / "explorer_02_stride_1.png"))
    on_screen = changed_fraction(screen_before, screen_after)
    assert on_screen > 0.01, f"the figure on the screen barely changed ({on_screen:.1%} of its pixels)"

    # -- 4. An impossible setting shows the library's error instead of the figure --------------------
    set_slider(page, explorer, "kernel_size", 7)  # 7 still fits 5 + 2*1 ...
    page.wait_for_function(f"() => ({OUTPUT_JS})({explorer}).text.includes('(7−1)')", timeout=60_000)
    assert page.evaluate(OUTPUT_JS, explorer)["error"] is None
    set_slider(page, explorer, "padding", 0)  # ... but not 5 + 2*0
    page.wait_for_function(f"() => ({OUTPUT_JS})({explorer}).error !== null", timeout=60_000)
    broken = page.evaluate(OUTPUT_JS, explorer)
    with pytest.raises(ValueError) as library:
        arith.conv_output_size(5, 7, stride=1, padding=0)
    assert str(library.value) in broken["error"].replace("\n", " "), broken["error"]
    assert broken["image"] is None
    output_area.screenshot(path=str(artifacts / "explorer_03_impossible.png"))
    set_slider(page, explorer, "kernel_size", 5)
    page.wait_for_function(f"() => {{ const o = ({OUTPUT_JS})({explorer}); return o.error === null && o.image; }}", timeout=60_000)
    recovered = page.evaluate(OUTPUT_JS, explorer)
    assert f"= {arith.conv_output_size(5, 5, stride=1, padding=0)}" in recovered["text"], recovered["text"]
    shot(page, artifacts / "explorer_04_page.png")
