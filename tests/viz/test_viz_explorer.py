"""The Explorer's mechanics: what it displays, how a moved control updates those outputs in place,
and what it does with errors; then a notebook with the three explorers executed by nbclient and
rendered by nbconvert, as a reader without a widget front end sees it."""

import base64
import doctest

import ipywidgets
import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from matplotlib.figure import Figure

from cnnlib.viz import conv_arithmetic_explorer, conv_backward_explorer, receptive_field_explorer
from cnnlib.viz.explorer import ERROR_CLASS, TEXT_CLASS, Explorer, View

WIDGET = "application/vnd.jupyter.widget-view+json"
PNG_MAGIC = b"\x89PNG"


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()


def square_view(side):
    if side < 0:
        raise ValueError(f"side must be >= 0, got {side}")
    figure = Figure(figsize=(1 + side, 1))
    figure.add_subplot().plot([0, side])
    return View(figure, f"side = {side}")


def test_display_shows_controls_text_and_figure_then_updates_them_in_place(shell):
    explorer = Explorer({"side": ipywidgets.IntSlider(value=1, min=-2, max=5)}, square_view)
    with capture_output() as displayed:
        explorer._ipython_display_()
    controls, text, figure = displayed.outputs
    assert controls.data[WIDGET]["model_id"] == explorer.widget.model_id
    assert controls.data["text/plain"] == "[controls: side=1; run the notebook in JupyterLab to move them]"
    assert text.data["text/plain"] == "side = 1" and TEXT_CLASS in text.data["text/html"]
    assert base64.b64decode(figure.data["image/png"]).startswith(PNG_MAGIC)
    text_id, figure_id = text.transient["display_id"], figure.transient["display_id"]
    assert text_id != figure_id

    with capture_output() as updates:
        explorer.controls["side"].value = 3
    new_text, new_figure = updates.outputs
    assert new_text.update and new_text.transient["display_id"] == text_id and new_text.data["text/plain"] == "side = 3"
    assert new_figure.update and new_figure.transient["display_id"] == figure_id
    assert new_figure.data["image/png"] != figure.data["image/png"]


def test_an_impossible_setting_replaces_the_figure_with_the_error(shell):
    explorer = Explorer({"side": ipywidgets.IntSlider(value=1, min=-2, max=5)}, square_view)
    with capture_output():
        explorer._ipython_display_()
    with capture_output() as updates:
        explorer.controls["side"].value = -1
    _, figure = updates.outputs
    assert "image/png" not in figure.data
    assert figure.data["text/plain"] == "ValueError: side must be >= 0, got -1"
    assert ERROR_CLASS in figure.data["text/html"] and "side must be &gt;= 0, got -1" in figure.data["text/html"]
    assert explorer.view == View(None, "", "ValueError: side must be >= 0, got -1")


def test_a_bug_in_a_render_function_is_not_shown_as_a_setting_error():
    def broken(side):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        Explorer({"side": ipywidgets.IntSlider(value=1)}, broken)


def test_sync_adjusts_dependent_controls_without_extra_renders():
    def sync(controls):
        controls["unit"].max = controls["size"].value - 1

    controls = {"size": ipywidgets.IntSlider(value=5, min=1, max=9), "unit": ipywidgets.IntSlider(value=4, min=0, max=4)}
    explorer = Explorer(controls, lambda size, unit: View(None, f"{unit} of {size}"), sync=sync)
    renders = explorer.renders
    controls["size"].value = 3  # clamps unit from 4 to 2, which must not render on its own
    assert explorer.renders == renders + 1
    assert explorer.view.text == "2 of 3"


@pytest.mark.slow
def test_a_notebook_run_without_a_widget_front_end_shows_each_explorers_figure(tmp_path):
    """Executed by nbclient and exported by nbconvert (as a course site would publish it), each
    explorer cell holds its figure as a PNG and its formula as text, and the HTML shows both."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    cells = [
        "from cnnlib import viz",
        "viz.conv_arithmetic_explorer()",
        "viz.receptive_field_explorer()",
        "viz.conv_backward_explorer()",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    expected_text = {1: "convolution: o = ⌊(n + 2p − d(k−1) − 1) / s⌋ + 1", 2: "r = 1 + Σ d·(k−1)·J", 3: "step 0 of 9"}
    for index, text in expected_text.items():
        outputs = notebook.cells[index].outputs
        assert [o.output_type for o in outputs] == ["display_data"] * 3, outputs
        assert outputs[0].data["text/plain"].startswith("[controls: ")
        assert text in outputs[1].data["text/plain"]
        assert base64.b64decode(outputs[2].data["image/png"]).startswith(PNG_MAGIC)
    # nbclient stores the widget state; a page without it (GitHub, or an export that drops it) falls back to text.
    notebook.metadata.pop("widgets", None)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert html.count("data:image/png;base64,") >= 3
    assert "[controls: n=5, kernel_size=3, stride=2, padding=1" in html
    assert TEXT_CLASS in html and "step 0 of 9" in html


def test_the_three_explorers_start_from_a_drawable_setting():
    for explorer in (conv_arithmetic_explorer(), receptive_field_explorer(), conv_backward_explorer()):
        assert explorer.view.error is None and explorer.view.figure is not None and explorer.view.text


@pytest.mark.parametrize("module", ["conv_arithmetic", "receptive_field"])
def test_the_examples_in_the_docstrings_hold(module):
    import importlib

    result = doctest.testmod(importlib.import_module(f"cnnlib.viz.{module}"))
    assert result.attempted > 0 and result.failed == 0
