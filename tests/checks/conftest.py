"""Every check test starts from the default variant (the course's own numbers): a test elsewhere in
the same worker process that ran a student-id cell must not decide whose numbers these checks grade."""

import pytest

from cnnlib.variants import context


@pytest.fixture(autouse=True)
def default_variant(monkeypatch):
    monkeypatch.setattr(context, "_imposed", None)
    monkeypatch.setattr(context, "_loaded", None)
