"""Grading on several machines with Dask (``cnncourse grade --scheduler tcp://HOST:8786``).

A Dask scheduler hands each submission to a worker process on some machine; the worker grades it
with :func:`autograder.engines.runner.grade_submission`, in the same sandbox as a local job (its own
zygote, bubblewrap when the machine has it, the same policy and time limits), and sends back the
outcome as JSON text. The grader's process alone writes results, the gradebook and the reports.

- Each assignment's notebooks go to the cluster once, as the result of a small task of their own
  that every grading task of that assignment depends on: a worker that needs them fetches them
  from another, and if every worker holding them dies, Dask computes them again.
- A worker that dies (killed, its machine lost) loses nothing: the scheduler gives its notebooks
  to other workers, and the grader still receives exactly one result per submission.
- ``local:N`` starts a ``LocalCluster`` of N worker processes on this machine (tests, one big
  machine); it ends with the run.

Connecting checks what would otherwise fail later and less clearly: the scheduler answers within
``connect_timeout`` seconds, it has workers, and every worker has the grader's own grading code
(:func:`runner.grader_fingerprint`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from typing import Iterable, Iterator

from distributed import Client, WorkerPlugin, as_completed, get_worker
from distributed.comm import parse_address, parse_host_port

from . import runner
from .base import AssignmentFiles, Engine, EngineLost, EngineUnavailable, Submission

PLUGIN_NAME = "cnncourse-grader"


# -- on the workers ---------------------------------------------------------------------------------


class GraderPlugin(WorkerPlugin):
    """Ends the worker's zygotes when the worker closes (they start with its first notebook)."""

    idempotent = True  # registered by every `grade` run: a worker keeps the one it has

    def teardown(self, worker) -> None:
        runner.close_all()


def _hold(files: AssignmentFiles) -> AssignmentFiles:
    """A task whose result is one assignment's notebooks, kept on the workers for its graders."""
    return files


def _worker_fingerprint() -> str:
    return runner.grader_fingerprint()


def _grade_on_worker(submission: Submission, files: AssignmentFiles, settings: dict) -> str:
    # The worker's own folder holds task data Dask may spill to disk: hidden from students' code.
    return runner.grade_submission(submission, files, settings, hidden_paths=(get_worker().local_directory,))


# -- in the grader's process ----------------------------------------------------------------------------


class DaskEngine(Engine):
    """Grade on the workers of the Dask scheduler at ``address``, or, with ``local_workers=N``, on
    a ``LocalCluster`` of N worker processes started for this run."""

    def __init__(self, address: str | None = None, *, local_workers: int | None = None, connect_timeout: float = 10.0):
        if (address is None) == (local_workers is None):
            raise ValueError("give either a scheduler address or local_workers")
        if local_workers is not None and local_workers < 1:
            raise ValueError(f"local_workers must be at least 1, got {local_workers}")
        self.address = address
        self.local_workers = local_workers
        self.connect_timeout = connect_timeout
        self.cluster = None
        self.client = None

    def describe(self) -> str:
        workers = len(self.client.nthreads()) if self.client is not None else 0
        where = "a Dask LocalCluster" if self.local_workers else f"Dask at {self.address}"
        return f"{where}, {workers} workers"

    # -- connecting -------------------------------------------------------------------------------

    def __enter__(self) -> "DaskEngine":
        try:
            self._connect()
            self._check_workers()
            self.client.register_plugin(GraderPlugin(), name=PLUGIN_NAME)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _connect(self) -> None:
        if self.local_workers:
            from distributed import LocalCluster

            try:
                self.cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
            except Exception as exc:
                raise EngineUnavailable(f"could not start a local Dask cluster of {self.local_workers} workers ({type(exc).__name__}: {exc})") from exc
            self.address = self.cluster.scheduler_address
        if self.address.startswith("tls://"):
            from distributed.security import Security

            security = Security()  # Dask's configuration: ~/.config/dask/*.yaml or DASK_* variables
            if not (security.tls_ca_file and security.tls_client_cert):
                raise EngineUnavailable(
                    f"a tls:// scheduler ({self.address}) needs this machine's certificate, and Dask's configuration has none: set "
                    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY "
                    "(or distributed.comm.tls in Dask's configuration file) to the CA's and the grader's certificate files"
                )
        hint = "Is `dask scheduler` running there, on that port (8786 by default; 8787 is its dashboard), and can this machine reach it?"
        host, port = parse_host_port(parse_address(self.address)[1], default_port=8786)
        try:  # a plain TCP connection first: "refused" is known at once, not after the timeout
            socket.create_connection((host, port), timeout=self.connect_timeout).close()
        except OSError as exc:
            why = f"no answer within {self.connect_timeout:g} s" if isinstance(exc, TimeoutError) else exc.strerror or str(exc) or type(exc).__name__
            raise EngineUnavailable(f"could not connect to the Dask scheduler at {self.address} ({why}). {hint}") from exc
        # Dask's own handshake can wait forever on a port where something else listens (a web
        # server, say): it gets a deadline of its own, and a thread that hangs is left behind.
        connected: dict = {}

        def connect() -> None:
            client = Client.__new__(Client)  # made first, so that a failed start can be let go
            try:
                client.__init__(self.address, timeout=self.connect_timeout, set_as_default=False)
                connected["client"] = client
            except BaseException as exc:  # noqa: BLE001 - handed to the grader's thread below
                connected["error"] = exc
                # Its __del__ would try to close a connection that never was, wait twice the
                # timeout, and print a traceback at exit: there is nothing to close.
                client.status = "closed"

        thread = threading.Thread(target=connect, name="cnncourse-dask-connect", daemon=True)
        thread.start()
        thread.join(self.connect_timeout + 5)
        if "client" in connected:
            self.client = connected["client"]
            return
        why = f"{type(connected['error']).__name__}: {connected['error']}" if "error" in connected else "something listens there, but it did not answer as a Dask scheduler"
        raise EngineUnavailable(f"could not connect to the Dask scheduler at {self.address} within {self.connect_timeout:g} s ({why}). {hint}") from connected.get("error")

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise EngineUnavailable(
                f"the Dask scheduler at {self.address} has no workers after {self.connect_timeout:g} s: start them on the grading machines, "
                f"with the course's environment activated: `dask worker {self.address} --nworkers N --nthreads 1`"
            ) from exc
        try:
            fingerprints = self.client.run(_worker_fingerprint)
        except Exception as exc:  # e.g. a worker that cannot import the grader
            raise EngineUnavailable(
                f"the Dask workers of {self.address} cannot run the grader ({type(exc).__name__}: {exc}): "
                "start them with the course's environment activated (`pip install -e .` of the same commit)"
            ) from exc
        ours = runner.grader_fingerprint()
        different = sorted(address for address, theirs in fingerprints.items() if theirs != ours)
        if different:
            raise EngineUnavailable(
                f"{len(different)} of {len(fingerprints)} Dask worker(s) have different grading code than this machine "
                f"(the autograder or cnnlib sources, Python, or numpy/scipy/torch/scikit-learn/scikit-image/nbformat versions): "
                f"{', '.join(different)}. Set up every worker from the same commit with the same pinned environment."
            )

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    # -- grading ------------------------------------------------------------------------------------

    def _window(self) -> int:
        """How many notebooks to keep in flight: two per worker thread (workers may join later)."""
        return max(4, 2 * sum(self.client.nthreads().values()))

    def run(self, submissions: Iterable[Submission], files: dict[str, AssignmentFiles], settings: dict) -> Iterator[tuple[Submission, str | BaseException]]:
        client = self.client
        pending = iter(submissions)
        run_id = uuid.uuid4().hex[:8]
        held: dict = {}  # assignment -> the future of its notebooks
        running: dict = {}  # task key -> (future, submission)
        flow = as_completed(loop=client.loop)

        def submit_next() -> bool:
            submission = next(pending, None)
            if submission is None:
                return False
            assignment = submission.assignment
            if assignment not in held:
                held[assignment] = client.submit(_hold, files[assignment], key=f"cnncourse-files-{run_id}/{assignment}", pure=False)
            future = client.submit(_grade_on_worker, submission, held[assignment], settings, key=f"cnncourse-grade-{run_id}/{submission.student}/{assignment}", pure=False)
            running[future.key] = (future, submission)
            flow.add(future)
            return True

        def fill() -> None:
            try:
                window = self._window()
                while len(running) < window and submit_next():
                    pass
            except Exception as exc:
                if client.status == "running":
                    raise
                raise self._lost(exc) from exc

        try:
            fill()
            for future in flow:
                _, submission = running.pop(future.key)
                try:
                    result: str | BaseException = future.result()
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # the grader failed on it, or a worker died once too often (KilledWorker)
                    if client.status != "running":  # ... or the scheduler is gone: nobody's fault in this notebook
                        raise self._lost(exc) from exc
                    result = exc
                future.release()
                fill()
                yield submission, result
        finally:  # also on an interruption: nothing is left running on the cluster
            with contextlib.suppress(Exception):  # nothing to cancel when the scheduler is gone
                if running:
                    client.cancel([f for f, _ in running.values()])
                for future in held.values():
                    future.release()

    def _lost(self, exc: BaseException) -> EngineLost:
        return EngineLost(f"lost the connection to the Dask scheduler at {self.address} ({type(exc).__name__}: {exc}); is it still running?")
