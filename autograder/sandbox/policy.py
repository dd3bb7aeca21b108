"""What student code may do while it is graded, and the mechanisms that enforce it.

Layers, from the outside in (see README, "What the grader protects"):

1. The student's code runs in its own process, forked from a clean interpreter, never in the
   grader's; points are decided in the grader from plain data (``autograder.codec``).
2. OS limits on that process: address space, CPU seconds, open files, no core dumps; as root the
   process also drops to an unprivileged user; with bubblewrap it also has no network and no
   view of the course folder (``autograder.sandbox.bwrap``).
3. An audit hook (``sys.addaudithook``; it cannot be removed) that refuses: network sockets,
   starting programs, signals to other processes, ctypes, ``sys.setprofile``/``settrace``,
   heap introspection (``gc``), new audit hooks, reading outside an allow-list of paths (the
   Python installation, the data folder, the worker's temporary folder) and writing outside the
   temporary folder.
4. Static checks of every student cell before it runs (:func:`scan_cell`): constructs that reach
   into the interpreter to switch off the grader (``__builtins__``, ``__globals__``,
   ``sys.modules``, frames, ``getattr`` with a computed name, ``exec``/``eval``...). A cell that
   uses one is not run, and the report says why.
5. An import guard in the student's namespace (:func:`guarded_builtins`): the libraries that
   implement the graded operation cannot be imported by student code.
6. The forbidden-call profiler (``cnnlib.checks.forbid``), on for the life of the process.
"""

from __future__ import annotations

import ast
import builtins
import os
import resource
import sys
from dataclasses import dataclass, field

__all__ = [
    "ALWAYS_FORBIDDEN_IMPORTS",
    "Policy",
    "install_audit_hook",
    "apply_limits",
    "guarded_builtins",
    "scan_cell",
]

# Student code may never import these, whatever the notebook.
ALWAYS_FORBIDDEN_IMPORTS = (
    "autograder",
    "cnnlib.checks",
    "ctypes",
    "_ctypes",
    "cffi",
    "gc",
    "inspect",
    "importlib",
    "subprocess",
    "socket",
    "_socket",
    "ssl",
    "http",
    "urllib",
    "requests",
    "multiprocessing",
    "concurrent",
    "threading",
    "_thread",
    "signal",
    "pty",
    "resource",
    "nbgrader",
    "sqlite3",
    "_sqlite3",
    "sqlalchemy",
    "pickle",
    "marshal",
    "builtins",
    "code",
    "codeop",
    "runpy",
)

# Names and attributes that reach into the interpreter (the grader's own state included).
BANNED_NAMES = {
    "__import__": "imports by name",
    "__builtins__": "the interpreter's built-ins",
    "__subclasses__": "class introspection",
    "__globals__": "a function's globals",
    "__closure__": "a function's closure",
    "__code__": "code objects",
    "__self__": "bound objects",
    "__dict__": "attribute dictionaries",
    "__class__": "class introspection",
    "__bases__": "class introspection",
    "__mro__": "class introspection",
    "__getattribute__": "attribute hooks",
    "__reduce__": "pickling hooks",
    "__reduce_ex__": "pickling hooks",
    "__loader__": "module loaders",
    "__spec__": "module specs",
    "f_back": "stack frames",
    "f_globals": "stack frames",
    "f_locals": "stack frames",
    "f_builtins": "stack frames",
    "gi_frame": "stack frames",
    "tb_frame": "stack frames",
    "cell_contents": "closures",
    "getprofile": "the profiler",
    "setprofile": "the profiler",
    "gettrace": "the tracer",
    "settrace": "the tracer",
    "_getframe": "stack frames",
    "currentframe": "stack frames",
    "addaudithook": "audit hooks",
    "ctypes": "ctypes",
    "ctypeslib": "ctypes",
    "meta_path": "the import system",
    "path_hooks": "the import system",
    "modules": None,  # only as sys.modules, see below
    "exec": "exec",
    "eval": "eval",
    "compile": "compile",
    "globals": "globals()",
    "vars": "vars()",
    "locals": "locals()",
    "breakpoint": "the debugger",
    "get_ipython": "the IPython kernel",
    "_exit": "os._exit",
    "kill": "signals",
    "killpg": "signals",
}


# Banned only as the built-in functions: as attribute names (``model.eval()``, ``torch.compile``)
# they are ordinary methods.
BUILTIN_ONLY = {"exec", "eval", "compile", "globals", "vars", "locals", "breakpoint"}


@dataclass(frozen=True)
class Policy:
    """What one notebook's student code may import.

    ``forbidden_imports`` come from the notebook's checks module (``FORBIDDEN_IMPORTS``): the
    libraries that implement what the notebook asks students to write.
    """

    forbidden_imports: tuple[str, ...] = ()
    data_dirs: tuple[str, ...] = ()
    cell_time_limit: float = 60.0
    memory_limit_mb: int = 4096
    cpu_time_limit: int = 1800
    extra: dict = field(default_factory=dict)

    def all_forbidden_imports(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(ALWAYS_FORBIDDEN_IMPORTS + tuple(self.forbidden_imports)))

    def to_json(self) -> dict:
        return {
            "forbidden_imports": list(self.forbidden_imports),
            "data_dirs": list(self.data_dirs),
            "cell_time_limit": self.cell_time_limit,
            "memory_limit_mb": self.memory_limit_mb,
            "cpu_time_limit": self.cpu_time_limit,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Policy":
        return cls(
            tuple(data.get("forbidden_imports", ())),
            tuple(data.get("data_dirs", ())),
            float(data.get("cell_time_limit", 60.0)),
            int(data.get("memory_limit_mb", 4096)),
            int(data.get("cpu_time_limit", 1800)),
        )


# ---------------------------------------------------------------------------------------------
# Static checks
# ---------------------------------------------------------------------------------------------


def strip_magics(source: str) -> tuple[str, list[str]]:
    """Drop IPython magics and shell escapes (``%...``, ``!...``); returns (code, dropped lines)."""
    kept, dropped = [], []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            dropped.append(stripped)
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def scan_cell(source: str, forbidden_imports: tuple[str, ...] = ()) -> list[str]:
    """Problems that stop a student cell from being run, as sentences (empty when none).

    ``source`` must be plain Python (magics stripped). A syntax error is reported as a problem.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"it has a syntax error on line {exc.lineno}: {exc.msg}"]
    problems = []

    def banned(name: str, where: int):
        what = BANNED_NAMES.get(name)
        if what:
            problems.append(f"line {where} uses `{name}` ({what}), which graded code may not use")

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            banned(node.id, line)
        elif isinstance(node, ast.Attribute):
            if node.attr not in BUILTIN_ONLY:  # model.eval(), torch.compile, re.compile are fine
                banned(node.attr, line)
            if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
                problems.append(f"line {line} uses `sys.modules`, which graded code may not use")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                problems.append(f"line {line} uses a relative import")
            for name in names:
                for prefix in ALWAYS_FORBIDDEN_IMPORTS + tuple(forbidden_imports):
                    if name == prefix or name.startswith(prefix + "."):
                        problems.append(f"line {line} imports `{name}`, which this exercise does not allow")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    banned(alias.name, line)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("getattr", "setattr", "delattr", "hasattr") and len(node.args) >= 2:
                attr = node.args[1]
                if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
                    problems.append(f"line {line} calls {node.func.id} with a computed attribute name, which graded code may not do")
                else:
                    banned(attr.value, line)
                    if attr.value.startswith("__") and attr.value.endswith("__"):
                        problems.append(f"line {line} reaches the special attribute `{attr.value}` through {node.func.id}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "ctypes" in node.value or "__builtins__" in node.value:
                problems.append(f"line {line} has a string that names {node.value!r}, which graded code may not use")
    # one message per distinct problem, in order
    return list(dict.fromkeys(problems))


# ---------------------------------------------------------------------------------------------
# Runtime: import guard, audit hook, limits
# ---------------------------------------------------------------------------------------------


def guarded_builtins(forbidden: tuple[str, ...], reason: str = "") -> dict:
    """A copy of the built-ins whose ``__import__`` refuses ``forbidden`` modules, for student code."""
    real_import = builtins.__import__
    prefixes = tuple(forbidden)

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            candidates = [name] + [f"{name}.{item}" for item in (fromlist or ()) if isinstance(item, str)]
            for candidate in candidates:
                for prefix in prefixes:
                    if candidate == prefix or candidate.startswith(prefix + "."):
                        raise ImportError(
                            f"`{candidate}` cannot be imported in this exercise"
                            + (f": {reason}" if reason else "")
                        )
        return real_import(name, globals, locals, fromlist, level)

    table = dict(vars(builtins))
    table["__import__"] = guarded_import
    for name in ("exec", "eval", "compile", "breakpoint", "globals", "vars", "locals", "input"):
        table.pop(name, None)
    return table


_READ_EVENTS = {"open", "os.listdir", "os.scandir", "glob.glob", "os.chdir", "os.chflags", "os.lchflags"}
_WRITE_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.rename",
    "os.truncate",
    "os.chmod",
    "os.chown",
    "os.utime",
    "os.symlink",
    "os.link",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.copymode",
    "shutil.copystat",
    "shutil.copytree",
    "shutil.move",
    "os.setxattr",
    "os.removexattr",
}
_DENIED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.",
    "os.kill",
    "os.killpg",
    "signal.pthread_kill",
    "ctypes.",
    "sys.setprofile",
    "sys.settrace",
    "sys.addaudithook",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "object.__setattr__",
    "object.__delattr__",
    "function.__new__",
    "code.__new__",
    "sys.monitoring",
    "os.startfile",
    "webbrowser.open",
    "sqlite3.",
    "winreg.",
    "cpython.run_",
    "cpython.PyInterpreterState_New",
    "_posixsubprocess.",
    "resource.setrlimit",
    "resource.prlimit",
)


class SandboxViolation(PermissionError):
    """The student's code tried something grading does not allow."""


def _real(path) -> str | None:
    if isinstance(path, int):
        return None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        path = os.fspath(path)
    return os.path.realpath(path)


def install_audit_hook(read_roots: tuple[str, ...], write_roots: tuple[str, ...], denied_roots: tuple[str, ...]) -> None:
    """Refuse network, programs, signals, ctypes, tracing and file access outside the roots.

    ``read_roots`` may be read (``write_roots`` are readable too); ``denied_roots`` are refused even
    when inside a readable root (the course folder inside a home folder, say). Once installed the
    hook cannot be removed and no other hook can be added.
    """
    reads = tuple(os.path.realpath(p) for p in read_roots + write_roots)
    writes = tuple(os.path.realpath(p) for p in write_roots)
    denied = tuple(os.path.realpath(p) for p in denied_roots)

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def hook(event: str, args: tuple):
        if event.startswith(_DENIED_EVENTS):
            if event == "object.__setattr__" and not _sensitive_setattr(args):
                return
            if event == "object.__delattr__" and not _sensitive_setattr(args):
                return
            raise SandboxViolation(f"grading does not allow {event}")
        if event in _READ_EVENTS or event in _WRITE_EVENTS:
            if not args:
                return
            path = _real(args[0]) if args[0] is not None else os.getcwd()
            if path is None:
                return
            writing = event in _WRITE_EVENTS
            if event == "open" and len(args) > 1:
                mode = args[1] if isinstance(args[1], str) else ""
                flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
                writing = any(c in (mode or "") for c in "wax+") or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            if inside(path, denied) or not inside(path, writes if writing else reads):
                raise SandboxViolation(f"grading does not allow {'writing' if writing else 'reading'} {path}")
            if event in ("os.rename", "shutil.copyfile", "shutil.copytree", "shutil.move", "os.symlink", "os.link") and len(args) > 1:
                target = _real(args[1])
                if target is not None and not inside(target, writes):
                    raise SandboxViolation(f"grading does not allow writing {target}")

    sys.addaudithook(hook)


def _sensitive_setattr(args) -> bool:
    """``object.__setattr__`` audit events fire for setting attributes on types and functions;
    refuse those that could switch off the grader's machinery (code objects, closures, globals)."""
    if len(args) < 2:
        return False
    target, name = args[0], args[1]
    # __code__ could swap the body of the grader's own monitor; __defaults__ and the like are set
    # by ordinary library code (every NamedTuple class), and cannot switch anything off.
    if name in ("__code__", "__globals__", "__closure__", "__dict__"):
        return True
    module = getattr(target, "__module__", "") or ""
    return isinstance(module, str) and (module.startswith(("cnnlib.checks", "autograder", "builtins")) or module == "sys")


def apply_limits(memory_limit_mb: int, cpu_seconds: int) -> None:
    """Limit the process's extra address space, CPU time, file size and core dumps."""
    vm_kb = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    vm_kb = int(line.split()[1])
    except OSError:
        pass
    limit = vm_kb * 1024 + memory_limit_mb * 1024 * 1024
    for which, value in (
        (resource.RLIMIT_AS, limit),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 256 * 1024 * 1024),
    ):
        try:
            soft, hard = resource.getrlimit(which)
            new = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (new, new if which != resource.RLIMIT_CPU else hard))
        except (ValueError, OSError):
            pass


def _world_readable(path: str) -> bool:
    """Whether any user can reach ``path``: every parent searchable and the path itself readable."""
    import stat

    path = os.path.realpath(path)
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        parent = os.path.dirname(path)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def drop_privileges(needed: tuple[str, ...] = ()) -> str | None:
    """As root, become the unprivileged user ``nobody``; returns the user name, or None.

    Only when ``nobody`` could still read every path in ``needed`` (the Python installation and
    the libraries): a Python kept under ``/root``, say, would stop importing anything new. The
    other layers apply either way.
    """
    if os.geteuid() != 0:
        return None
    if not all(_world_readable(p) for p in needed if os.path.exists(p)):
        return None
    import pwd

    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    try:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    except OSError:
        return None
    return "nobody"
