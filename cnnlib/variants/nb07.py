"""Notebook 07's hand-worked example, with numbers drawn per student.

One 3 × 3 input ``x`` of small non-negative integers, one 3 × 3 kernel ``w`` with three to five
nonzero entries, padding 1, stride 1, and an upstream gradient ``dout`` with three nonzero entries:
small enough to work with pencil and paper, every answer an integer. Using the kernel unflipped
always gives another ``dx``, flipping ``dw`` another ``dw``, and the entries of ``dout`` never sum
to 0 or to their maximum (so a wrongly reduced ``db`` shows).
"""

from __future__ import annotations

import numpy as np

from .questions import Question, QuestionSet

#: The example the notebook has always had.
HAND_X = ((1, 2, 0), (0, 1, 2), (2, 0, 1))
HAND_W = ((1, 0, -1), (0, 2, 0), (1, 0, 0))
HAND_DOUT = ((1, 0, 0), (0, 0, 1), (0, 2, 0))


def _distinguishes_the_mistakes(x, w, dout) -> bool:
    """Whether the kernel used unflipped gives another dx, and a flipped dw another dw (and
    neither gradient is zero). Only a yes or no: this module gives no answers."""
    x_pad = np.pad(x, 1)
    dx_pad, dx_pad_unflipped, dw = np.zeros((5, 5)), np.zeros((5, 5)), np.zeros((3, 3))
    for i in range(3):
        for j in range(3):  # each dout[i, j] scatters w onto its window, and gathers its window into dw
            dx_pad[i : i + 3, j : j + 3] += dout[i, j] * w
            dx_pad_unflipped[i : i + 3, j : j + 3] += dout[i, j] * w[::-1, ::-1]
            dw += dout[i, j] * x_pad[i : i + 3, j : j + 3]
    dx, unflipped = dx_pad[1:-1, 1:-1], dx_pad_unflipped[1:-1, 1:-1]
    return dx.any() and dw.any() and not np.array_equal(dx, unflipped) and not np.array_equal(dw, dw[::-1, ::-1])


def _draw_hand(rng):
    while True:
        x = rng.integers(0, 3, (3, 3))
        w = rng.integers(-1, 3, (3, 3))
        dout = np.zeros((3, 3), dtype=np.int64)
        dout.flat[rng.choice(9, size=3, replace=False)] = rng.choice([1, 1, 2, 3, -1, -2], size=3)
        total = int(dout.sum())
        if (
            3 <= np.count_nonzero(w) <= 5
            and not np.array_equal(w, w[::-1, ::-1])
            and not np.array_equal(dout, dout[::-1, ::-1])
            and total not in (0, int(dout.max()))
            and _distinguishes_the_mistakes(x, w, dout)
        ):
            return dict(x=x, w=w, dout=dout)


def _grid(rows) -> list[str]:
    return ["[" + " ".join(f"{v:2d}" for v in row) + " ]" for row in rows]


def _hand_text(q):
    columns = [("x", _grid(q.x)), ("w", _grid(q.w)), ("dout", _grid(q.dout))]
    width = max(len(line) for _, lines in columns for line in lines) + 4
    head = "".join(name.ljust(width) for name, _ in columns).rstrip()
    rows = ["".join(lines[i].ljust(width) for _, lines in columns).rstrip() for i in range(3)]
    block = "\n".join("   " + line for line in ["```", head, *rows, "```"])
    return (
        "one channel, one filter, padding 1, stride 1: the input `x`, the kernel `w` and the upstream "
        "gradient `dout` are\n\n" + block + "\n\n   Give `answer_dx` (3 × 3), `answer_dw` (3 × 3) and `answer_db` (one number)."
    )


QUESTIONS = QuestionSet(
    "07",
    [
        Question("answer_hand_example", dict(x=HAND_X, w=HAND_W, dout=HAND_DOUT), _draw_hand, _hand_text, answers=("answer_dx", "answer_dw", "answer_db")),
    ],
)
