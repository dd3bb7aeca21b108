"""The grader's side of the sandbox: start a zygote, fork workers, talk to them with time limits.

:class:`Zygote` owns one fork server. :class:`Worker` is one forked child serving one notebook.
:class:`RemoteObject` is what a check receives in place of a student's function, class or model:
calling it runs the student's code in the worker and returns plain data.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from cnnlib.checks.core import StudentError

from .. import codec
from .bwrap import bwrap_command


class WorkerDied(Exception):
    """The worker process ended (crash, ``os._exit``, killed, memory limit)."""


class WorkerTimeout(Exception):
    """The worker did not answer within the time limit; it has been killed."""


class Zygote:
    """A fork server started in its own process (inside bubblewrap when ``sandbox`` allows)."""

    def __init__(self, *, hidden_paths: tuple[str, ...] = (), use_bwrap: bool | None = None, log_path: str | None = None):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sys.executable, "-m", "autograder.sandbox.zygote"]
        self.scratch = tempfile.mkdtemp(prefix="cnncourse-scratch-")  # the workers' TMPDIR
        os.chmod(self.scratch, 0o711)  # a worker that drops to `nobody` can enter its own folder, not list others'
        os.makedirs(os.path.join(self.scratch, "matplotlib"))
        self.bwrap = False
        if use_bwrap is not False:
            wrapped = bwrap_command(command, hidden_paths=hidden_paths, scratch=self.scratch)
            if wrapped is not None:
                command, self.bwrap = wrapped, True
            elif use_bwrap:
                raise RuntimeError("bubblewrap was requested but cannot run on this machine")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", TMPDIR=self.scratch, MPLCONFIGDIR=os.path.join(self.scratch, "matplotlib"),
                   TORCHINDUCTOR_CACHE_DIR=os.path.join(self.scratch, "torchinductor"))
        env.pop("CNNLIB_DATA_WRITE", None)
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(command, stdin=child, stdout=log, stderr=log, env=env, close_fds=True)
        if log_path:
            log.close()
        child.close()
        self.control = parent
        self._buffer = b""
        ready = self._read(timeout=120)
        if not ready.get("ready"):
            raise RuntimeError(f"the grading worker did not start: {ready}")

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.control], [], [], remaining)[0]:
                raise RuntimeError("the grading worker's fork server did not answer")
            data = self.control.recv(65536)
            if not data:
                raise RuntimeError("the grading worker's fork server ended")
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, config: dict) -> "Worker":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        socket.send_fds(self.control, [json.dumps({"op": "fork", "config": config}).encode() + b"\n"], [theirs.fileno()])
        theirs.close()
        reply = self._read(timeout=60)
        return Worker(self, ours, int(reply["pid"]))

    def kill(self, pid: int) -> None:
        try:
            self.control.sendall(json.dumps({"op": "kill", "pid": pid}).encode() + b"\n")
            self._read(timeout=30)
        except (OSError, RuntimeError):
            pass

    def close(self) -> None:
        try:
            self.control.sendall(b'{"op": "exit"}\n')
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.control.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Worker:
    """One forked child serving one notebook; every request has a time limit."""

    def __init__(self, zygote: Zygote, sock: socket.socket, pid: int):
        self.zygote = zygote
        self.sock = sock
        self.pid = pid
        self.dead = False

    def request(self, message: dict, blobs: list = (), timeout: float = 30.0) -> tuple[dict, list]:
        if self.dead:
            raise WorkerDied("the worker has already ended")
        try:
            codec.send(self.sock, message, list(blobs))
        except OSError as exc:
            self.dead = True
            raise WorkerDied(str(exc)) from exc
        ready = select.select([self.sock], [], [], timeout)[0]
        if not ready:
            self.kill()
            raise WorkerTimeout(f"no answer within {timeout:g} s")
        try:
            # the answer has started to arrive; allow it time to finish, but not forever
            self.sock.settimeout(max(timeout, 30.0))
            reply, out_blobs = codec.recv(self.sock)
            self.sock.settimeout(None)
        except (EOFError, OSError, ValueError, codec.FrameTooLarge) as exc:
            self.kill()
            raise WorkerDied(str(exc) or type(exc).__name__) from exc
        if "fatal" in reply:
            raise RuntimeError(f"grading worker error: {reply['fatal']}")
        return reply, out_blobs

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            self.zygote.kill(self.pid)
            self.sock.close()

    def close(self) -> None:
        if not self.dead:
            try:
                codec.send(self.sock, {"op": "exit"}, [])
            except OSError:
                pass
            self.kill()


def student_error(data: dict | None) -> StudentError | None:
    if not data:
        return None
    return StudentError(str(data.get("type", "Exception")), str(data.get("message", "")), tuple(data.get("mro", ())), str(data.get("where", "")))


class RemoteObject:
    """A student's object that lives in the worker. Checks call it like the real thing."""

    def __init__(self, session, handle: codec.Handle, name: str | None = None):
        self._session = session
        self._handle = handle
        self._generation = session.generation
        self._origin_name = name  # the student's name for it, when it came from the namespace
        self.__name__ = name or handle.name or handle.type_name

    def __repr__(self):
        return f"<student's {self._handle.type_name} {self.__name__}>"

    def __call__(self, *args, **kwargs):
        from cnnlib.checks.core import call

        return call(self, *args, **kwargs)

    def _remote_call(self, args, kwargs, forbid, time_limit):
        message = {"op": "call", "forbid": forbid.to_json() if forbid else None}
        return self._session.remote_request(self, message, list(args), dict(kwargs), time_limit)

    def _remote_probe(self, name, args, forbid, time_limit):
        message = {"op": "probe", "name": name, "forbid": forbid.to_json() if forbid else None}
        return self._session.remote_request(self, message, list(args), {}, time_limit)
