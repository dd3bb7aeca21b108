"""The in-process sandbox allows what ordinary library code does and refuses what switches the grader off."""

import subprocess
import sys
import textwrap


def run_sandboxed(body: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(
        """
        import sys
        from autograder.sandbox.policy import install_audit_hook
        install_audit_hook(read_roots=(sys.prefix, sys.base_prefix, '/usr', '/etc', '/proc', '/dev'), write_roots=(), denied_roots=())
        """
    ) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_namedtuple_classes_can_be_made():
    result = run_sandboxed(
        """
        from typing import NamedTuple
        import collections
        class Cache(NamedTuple):
            x: int
            y: int = 2
        P = collections.namedtuple("P", "a b", defaults=(1,))
        print(Cache(1).y, P(0).b)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "1"]


def test_swapping_a_functions_code_is_refused():
    result = run_sandboxed(
        """
        def monitor(): return "watching"
        def nothing(): return "off"
        monitor.__code__ = nothing.__code__
        """
    )
    assert result.returncode != 0 and "SandboxViolation" in result.stderr


def test_profiler_and_sockets_are_refused():
    for body in ("sys.setprofile(None)", "import socket; socket.socket().connect(('127.0.0.1', 9))"):
        result = run_sandboxed(body)
        assert result.returncode != 0 and "SandboxViolation" in result.stderr, body


def test_scan_refuses_the_builtins_but_not_methods_of_the_same_name():
    from autograder.sandbox.policy import scan_cell

    assert scan_cell("model.eval()\nfast = torch.compile(model)\npattern = re.compile('x')") == []
    assert scan_cell("eval('1 + 1')")
    assert scan_cell("f = compile('1', 'x', 'eval')")
    assert scan_cell("import os\nos._exit(0)")
