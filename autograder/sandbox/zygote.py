"""The fork server: an interpreter with the heavy libraries already imported, forked per notebook.

Started once per grading job slot (``python -m autograder.sandbox.zygote``, optionally inside
bubblewrap). Its standard input is a Unix socket to the grader. For each submitted notebook the
grader sends ``{"op": "fork", "config": ...}`` together with one end of a fresh socket pair
(``SCM_RIGHTS``); the zygote forks, the child locks itself down and serves that socket
(``autograder.sandbox.worker``), and the zygote answers with the child's pid. ``{"op": "kill"}``
ends a child (time limit), ``{"op": "exit"}`` ends the zygote.

The zygote itself never runs student code, so it stays clean: every child starts from the same
state, and only the imports are shared (copy-on-write), which is what makes grading fast.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time

_CHILDREN: set[int] = set()  # forked workers that have not been reaped yet

PRELOAD = (
    "numpy",
    "numpy.random",
    "secrets",  # numpy's default_rng imports it on first use
    "matplotlib",
    "matplotlib.pyplot",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch._dynamo",  # torch.optim imports it on the first step, and it writes a cache folder
    "cnnlib.reference",  # setup cells import its layers (notebook 08)
    # Forbidden in the NumPy notebooks, but reachable as attributes of `import scipy` (a lazy
    # package): loaded here, a student's call of them is refused at once by the forbidden-call
    # watcher instead of first spending seconds on the import inside the call's time limit.
    "scipy.signal",
    "scipy.ndimage",
)


def _preload(modules) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a library that is missing is simply not preloaded
            pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    # The modules the child needs, so forking does not pay for them again.
    import cnnlib.checks.core  # noqa: F401
    import cnnlib.checks.probes  # noqa: F401

    from . import worker  # noqa: F401


def _send(control: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode() + b"\n"
    control.sendall(data)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _CHILDREN.discard(pid)  # never signal a pid that may since belong to another process


def _kill(pid: int) -> None:
    """End a child and everything it started (it leads its own process group)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


def main() -> None:
    try:
        _serve()
    finally:  # never leave a student's process behind (an infinite loop would run on)
        for pid in list(_CHILDREN):
            _kill(pid)


def _serve() -> None:
    _preload(PRELOAD)
    control = socket.socket(fileno=os.dup(0))
    os.close(0)
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    _send(control, {"ready": True, "pid": os.getpid()})
    buffer = b""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 65536, 4)
        except InterruptedError:
            continue
        if not data:
            return
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            op = message.get("op")
            if op == "fork":
                child_fd = fds.pop(0)
                pid = os.fork()
                if pid == 0:
                    _child(control, child_fd, message.get("config", {}))
                os.close(child_fd)
                _CHILDREN.add(pid)
                _send(control, {"pid": pid})
            elif op == "kill":
                pid = int(message["pid"])
                _kill(pid)
                _CHILDREN.discard(pid)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    try:
                        done, _ = os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if done:
                        break
                    time.sleep(0.01)
                _send(control, {"killed": pid})
            elif op == "exit":
                return


def _child(control: socket.socket, child_fd: int, config: dict) -> None:
    """In the forked child: forget the zygote's channel and serve the grader's socket."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        from .worker import serve_child

        serve_child(socket.socket(fileno=child_fd), config)
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        code = 1
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
