"""What the three explorers share: controls, and a figure and a line of text redrawn from their values.

An :class:`Explorer` holds ipywidgets controls and a ``render`` function that turns their values
into a :class:`View` (a matplotlib figure and a line of text, or an error message). Displayed in a
notebook it shows three ordinary outputs:

1. the controls, whose plain-text fallback lists their values (so a notebook rendered without a
   widget front end, by nbconvert or GitHub, says what the figure shows);
2. the text (the formula evaluated with the current numbers, or the error), as HTML;
3. the figure, as a PNG image, or in its place the error message when the setting is impossible.

Outputs 2 and 3 carry a ``display_id``. Moving a control calls :meth:`Explorer.refresh`, which
renders again and updates those two outputs in place (JupyterLab routes the update to them even
though it comes from a widget callback). Without a widget front end nothing moves, and the
outputs of the default setting stay an ordinary, static part of the notebook.

The callbacks are plain methods: a test sets ``explorer.controls["stride"].value = 2`` and reads
``explorer.view``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import NamedTuple

from matplotlib.figure import Figure

__all__ = ["View", "Explorer", "figure_png"]

#: Resolution of the PNG that an explorer shows (matplotlib's inline default is 72-100).
DPI = 90

# CSS classes of the HTML outputs; the browser test finds the text by them.
TEXT_CLASS = "cnnlib-explorer-text"
ERROR_CLASS = "cnnlib-explorer-error"


class View(NamedTuple):
    """What an explorer shows for one setting of its controls.

    ``figure`` is None exactly when ``error`` is set (an impossible setting): the error message is
    then shown in the figure's place.
    """

    figure: Figure | None
    text: str
    error: str | None = None


def figure_png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (the figure is not shown or registered with pyplot)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def render_safely(render: Callable[..., View], values: dict) -> View:
    """``render(**values)``, or a :class:`View` with the message when the library rejects the setting.

    Only ``ValueError`` and ``TypeError`` are the library's answers to a bad setting; anything else
    is a bug and propagates.
    """
    try:
        return render(**values)
    except (ValueError, TypeError) as error:
        return View(None, "", f"{type(error).__name__}: {error}")


class Explorer:
    """Controls and a view that follows them.

    Parameters
    ----------
    controls : dict of str to ipywidgets widget
        Each control's ``value`` is passed to ``render`` under its name.
    render : callable
        ``render(**values) -> View``; a ``ValueError`` or ``TypeError`` it raises becomes the error
        shown in the figure's place.
    sync : callable, optional
        ``sync(controls)`` runs before each render to adjust controls that depend on others (for
        example the range of a "which unit" slider); the changes it makes do not trigger renders.
    layout : ipywidgets widget, optional
        How to arrange the controls; by default one after the other.
    """

    def __init__(self, controls: dict, render: Callable[..., View], sync: Callable | None = None, layout=None):
        import ipywidgets

        self.controls = dict(controls)
        self._render = render
        self._sync = sync
        self._syncing = False
        self._handles: list[tuple] = []  # (text handle, figure handle) per time the explorer was displayed
        self.widget = layout if layout is not None else ipywidgets.VBox(list(self.controls.values()))
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.view: View | None = None
        self.renders = 0  # how many times the view was drawn: a test sees that a change redrew it
        self._sync_controls()
        self.refresh()

    # -- the callbacks ---------------------------------------------------------------------------

    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _sync_controls(self) -> None:
        if self._sync is None:
            return
        self._syncing = True
        try:
            self._sync(self.controls)
        finally:
            self._syncing = False

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        self._sync_controls()
        self.refresh()

    def refresh(self) -> View:
        """Render the current setting and update every place the explorer is displayed."""
        self.view = render_safely(self._render, self.values())
        self.renders += 1
        for text_handle, figure_handle in self._handles:
            text_handle.update(self.text_bundle(), raw=True)
            figure_handle.update(self.figure_bundle(), raw=True)
        return self.view

    # -- what is displayed -----------------------------------------------------------------------

    def controls_bundle(self) -> dict:
        """The controls as a widget, with a plain-text fallback that lists their values."""
        settings = ", ".join(f"{name}={value!r}" for name, value in self.values().items())
        return {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            },
            "text/plain": f"[controls: {settings}; run the notebook in JupyterLab to move them]",
        }

    def text_bundle(self) -> dict:
        view = self.view
        if view.error is not None and not view.text:
            return {"text/plain": "", "text/html": ""}
        return {
            "text/plain": view.text,
            "text/html": f'<div class="{TEXT_CLASS}" style="font-family: monospace; font-size: 13px; '
                         f'white-space: pre-wrap; margin: 4px 0">{html.escape(view.text)}</div>',
        }

    def figure_bundle(self) -> dict:
        view = self.view
        if view.error is not None:
            return {
                "text/plain": view.error,
                "text/html": f'<div class="{ERROR_CLASS}" style="font-family: monospace; color: #b00020; '
                             f'white-space: pre-wrap; padding: 8px; border: 1px solid #b00020; margin: 4px 0">'
                             f"No figure: this setting is impossible.\n{html.escape(view.error)}</div>",
            }
        png = figure_png(view.figure)
        return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<figure of the setting above>"}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.controls_bundle(), raw=True)
        text_handle = display(self.text_bundle(), raw=True, display_id=True)
        figure_handle = display(self.figure_bundle(), raw=True, display_id=True)
        self._handles.append((text_handle, figure_handle))
