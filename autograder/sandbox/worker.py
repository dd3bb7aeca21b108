"""The sandboxed side: a process that runs one student notebook's code and answers questions.

It is forked from the zygote (``autograder.sandbox.zygote``) for one submitted notebook, locks
itself down (:func:`lock_down`), then serves requests from the grader on a socket:

``run_cell``   execute a cell (the instructor's setup cells first, then the student's cells)
``lookup``     the values of names in the student's namespace: plain data, or handles
``call``       call a student function (by handle) on arguments, under the forbidden-call watcher
``probe``      run a ``cnnlib.checks.probes`` function on a student object

It never sees a test cell or the grader's expected values; what it returns is only data.
"""

from __future__ import annotations

import io
import os
import socket
import sys
import tempfile
import traceback

from cnnlib.checks import probes
from cnnlib.checks.core import run_student
from cnnlib.checks.forbid import Forbid, Watcher

from .. import codec
from .policy import (
    Policy,
    apply_limits,
    drop_privileges,
    guarded_builtins,
    install_audit_hook,
)


class _Sink(io.TextIOBase):
    """Where the student's prints go: kept short, never sent unless a cell fails."""

    def __init__(self, limit: int = 4000):
        self.limit = limit
        self.text = ""

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        self.text = (self.text + s)[-self.limit :]
        return len(s)

    def flush(self):
        pass


def _read_roots(policy: Policy, tmpdir: str) -> tuple[str, ...]:
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib", "/lib64", "/etc", "/dev", "/sys"}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    for entry in sys.path:
        if entry and "site-packages" in entry:
            roots.add(entry)
    import cnnlib

    roots.add(os.path.dirname(cnnlib.__file__))
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the autograder package
    pid = os.getpid()
    roots.update({f"/proc/{pid}", "/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/sys/kernel"})
    try:
        import matplotlib

        roots.update({matplotlib.get_cachedir(), matplotlib.get_configdir(), matplotlib.get_data_path()})
    except Exception:
        pass
    roots.update(policy.data_dirs)
    roots.add(tmpdir)
    return tuple(r for r in roots if r)


def lock_down(policy: Policy, denied_roots: tuple[str, ...]) -> str:
    """Apply the sandbox to this process: limits, unprivileged user, audit hook. Returns the tmpdir."""
    os.setsid()
    sys.dont_write_bytecode = True
    tmpdir = tempfile.mkdtemp(prefix="cnncourse-worker-")
    apply_limits(policy.memory_limit_mb, policy.cpu_time_limit)
    if os.geteuid() == 0:
        import pwd

        try:
            nobody = pwd.getpwnam("nobody")
            os.chown(tmpdir, nobody.pw_uid, nobody.pw_gid)
        except (KeyError, OSError):
            pass
    import sysconfig

    paths = sysconfig.get_paths()
    user = drop_privileges(tuple(paths[k] for k in ("stdlib", "purelib", "platlib") if paths.get(k)))
    policy.extra["user"] = user or "unchanged"
    os.chdir(tmpdir)
    os.environ["HOME"] = tmpdir
    os.environ["MPLBACKEND"] = "Agg"
    install_audit_hook(_read_roots(policy, tmpdir), (tmpdir,), denied_roots)
    return tmpdir


class Worker:
    """Serves one notebook's requests on ``sock`` until told to stop or the socket closes."""

    def __init__(self, sock: socket.socket, policy: Policy):
        self.sock = sock
        self.policy = policy
        self.namespace: dict = {"__name__": "__main__", "display": _display, "get_ipython": _no_ipython}
        self.handles: dict[int, object] = {}
        self.student_mode = False
        self.cell_sources: dict[str, str] = {}  # "<cell N>" -> its source, for error locations
        self.watcher = Watcher()
        self.stdout = _Sink()

    # -- handles ---------------------------------------------------------------------------

    def _make_handle(self, obj) -> dict:
        handle_id = len(self.handles) + 1
        self.handles[handle_id] = obj
        try:
            name = getattr(obj, "__name__", None)
            name = name if isinstance(name, str) else None
        except Exception:
            name = None
        try:
            is_callable = bool(callable(obj))
        except Exception:
            is_callable = False
        return {"__handle__": handle_id, "type": type(obj).__name__, "callable": is_callable, "name": name}

    def _resolve(self, handle_id: int):
        if handle_id not in self.handles:
            raise KeyError(f"no object #{handle_id} in this worker")
        return self.handles[handle_id]

    def _encode(self, value, blobs):
        try:
            return codec.encode(value, blobs, make_handle=self._make_handle)
        except Exception as exc:  # a value that cannot even be inspected
            return {"__missing__": f"<unreadable value: {type(exc).__name__}>"}

    def _where(self, frame, current: str) -> str:
        """``line 6: raise NotImplementedError()``, with the cell named when it is not the one run.

        The cells are compiled from strings, so the traceback has no source text: take it from the
        cell's own source."""
        lines = self.cell_sources.get(frame.filename, "").splitlines()
        text = lines[frame.lineno - 1].strip() if frame.lineno and 0 < frame.lineno <= len(lines) else ""
        place = f"line {frame.lineno}" if frame.filename == current else f"{frame.filename.strip('<>')}, line {frame.lineno}"
        return f"{place}: {text}" if text else place

    # -- requests --------------------------------------------------------------------------

    def run_cell(self, request: dict) -> dict:
        if request.get("kind") == "student" and not self.student_mode:
            reason = self.policy.extra.get("import_reason", "")
            self.namespace["__builtins__"] = guarded_builtins(self.policy.all_forbidden_imports(), reason)
            self.student_mode = True
        elif "__builtins__" not in self.namespace:
            import builtins

            self.namespace["__builtins__"] = builtins
        self.stdout.text = ""
        filename = f"<cell {request.get('label', '?')}>"
        self.cell_sources[filename] = request["source"]
        try:
            code = compile(request["source"], filename, "exec")
            exec(code, self.namespace)
        except BaseException as exc:  # noqa: BLE001 - the student's code can raise anything
            tb = traceback.extract_tb(exc.__traceback__)
            where = [f for f in tb if f.filename in self.cell_sources]
            return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)[:2000], "where": self._where(where[-1], filename) if where else ""}}
        finally:
            _close_figures()
        return {"ok": True}

    def lookup(self, request: dict, blobs: list) -> dict:
        values = {}
        for name in request["names"]:
            if name in self.namespace and not name.startswith("__"):
                values[name] = self._encode(self.namespace[name], blobs)
            else:
                values[name] = {"__missing__": name}
        return {"values": values}

    def _report(self, report: dict) -> dict:
        error = report.get("error")
        return {
            "error": None
            if error is None
            else {"type": error.type_name, "message": error.message[:2000], "mro": list(error.mro), "where": error.where},
            "violation": report.get("violation"),
            "mutated": list(report.get("mutated", [])),
        }

    def _call(self, fn, args, kwargs, forbid_json):
        forbid = Forbid.from_json(forbid_json) if forbid_json else None
        # The profiler stays installed for the life of the process; only the matcher changes.
        self.watcher.matcher = None
        value, report = run_student_watched(self.watcher, fn, args, kwargs, forbid)
        if sys.getprofile() is not self.watcher:
            report["violation"] = "your code switched off the grader's call monitor"
        return value, report

    def call(self, request: dict, blobs: list, out_blobs: list) -> dict:
        fn = self._resolve(request["target"])
        args = codec.decode(request["args"], blobs, resolve_handle=self._resolve)
        kwargs = codec.decode(request["kwargs"], blobs, resolve_handle=self._resolve)
        value, report = self._call(fn, tuple(args), dict(kwargs), request.get("forbid"))
        return {"value": self._encode(value, out_blobs), "report": self._report(report)}

    def probe(self, request: dict, blobs: list, out_blobs: list) -> dict:
        obj = self._resolve(request["target"])
        fn = getattr(probes, request["name"])
        args = codec.decode(request["args"], blobs, resolve_handle=self._resolve)
        value, report = self._call(fn, (obj,) + tuple(args), {}, request.get("forbid"))
        report["mutated"] = []
        return {"value": self._encode(value, out_blobs), "report": self._report(report)}

    def serve(self) -> None:
        sys.stdout = sys.stderr = self.stdout
        while True:
            try:
                request, blobs = codec.recv(self.sock)
            except (EOFError, OSError):
                return
            out_blobs: list = []
            op = request.get("op")
            try:
                if op == "run_cell":
                    reply = self.run_cell(request)
                elif op == "lookup":
                    reply = self.lookup(request, out_blobs)
                elif op == "call":
                    reply = self.call(request, blobs, out_blobs)
                elif op == "probe":
                    reply = self.probe(request, blobs, out_blobs)
                elif op == "exit":
                    return
                else:
                    reply = {"fatal": f"unknown request {op!r}"}
            except Exception as exc:  # an error in the worker itself, reported, not fatal
                reply = {"fatal": f"{type(exc).__name__}: {exc}"}
                out_blobs = []
            try:
                codec.send(self.sock, reply, out_blobs)
            except (OSError, ValueError, TypeError) as exc:
                codec.send(self.sock, {"fatal": f"could not send the reply: {exc}"}, [])


def run_student_watched(watcher: Watcher, fn, args, kwargs, forbid):
    """``run_student`` with the process-wide watcher instead of a temporary profiler."""
    if not forbid:
        return run_student(fn, args, kwargs, None)
    with watcher.active(forbid) as violations:
        value, report = run_student(fn, args, kwargs, None)
    if violations:
        report["violation"] = violations[0].message(getattr(fn, "__name__", "your function"))
    return value, report


def _display(*objects, **kwargs):
    """Stand-in for IPython's display() while grading: shows nothing."""


def _no_ipython():
    return None


def _close_figures():
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:
            pass


def serve_child(sock: socket.socket, config: dict) -> None:
    """Entry point in the forked child: lock down, then serve until done."""
    policy = Policy.from_json(config.get("policy", {}))
    policy.extra["import_reason"] = config.get("import_reason", "")
    from cnnlib import variants

    variants.impose(variants.Variant.from_json(config.get("variant")))  # whose numbers, before any student code
    worker = Worker(sock, policy)
    worker.watcher.install()  # before the audit hook, which refuses any later sys.setprofile
    lock_down(policy, tuple(config.get("denied_roots", ())))
    worker.serve()
