"""Run one check in collecting mode, for the tests of the checks modules."""

from cnnlib.checks.core import collecting


def run(check, *args, **kwargs):
    """Call ``check`` and return its single ``CheckResult`` (nothing is raised or printed)."""
    with collecting() as reporter:
        check(*args, **kwargs)
    (result,) = reporter.results
    return result


def assert_passes(check, *args, **kwargs):
    result = run(check, *args, **kwargs)
    assert result.passed, result.message
