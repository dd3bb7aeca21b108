"""The default engine: a pool of grading processes on this machine (``cnncourse grade --jobs N``)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, Iterator

from . import runner
from .base import AssignmentFiles, Engine, Submission

# -- in each job process ----------------------------------------------------------------------------

_JOB: dict = {}


def _start_job(files: dict[str, AssignmentFiles], settings: dict, log_dir: str) -> None:
    from multiprocessing import util

    _JOB.update(files=files, settings=settings, log_dir=log_dir)
    util.Finalize(None, runner.close_all, exitpriority=10)  # the zygote ends with the job process


def _grade(submission: Submission) -> str:
    return runner.grade_submission(submission, _JOB["files"][submission.assignment], _JOB["settings"], log_dir=_JOB["log_dir"])


# -- in the grader's process --------------------------------------------------------------------------


class LocalEngine(Engine):
    """``jobs`` processes, each with its own zygote, started fresh for every run (``spawn``: no
    state of the grader's process is inherited)."""

    def __init__(self, jobs: int, *, log_dir: str):
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.log_dir = log_dir

    def describe(self) -> str:
        return f"{self.jobs} jobs"

    def run(self, submissions: Iterable[Submission], files: dict[str, AssignmentFiles], settings: dict) -> Iterator[tuple[Submission, str | BaseException]]:
        pending = iter(submissions)
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=_start_job, initargs=(files, settings, self.log_dir))
        running: dict = {}

        def submit_next() -> None:
            submission = next(pending, None)
            if submission is None:
                return
            try:
                future = pool.submit(_grade, submission)
            except BrokenProcessPool as exc:  # a job process died: what is left fails, and is retried next run
                future = Future()
                future.set_exception(exc)
            running[future] = submission

        try:
            for _ in range(2 * self.jobs):  # a second notebook queued per job: no process waits
                submit_next()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    submission = running.pop(future)
                    submit_next()
                    try:
                        result: str | BaseException = future.result()
                    except Exception as exc:  # the grader itself failed on this one (or the pool broke)
                        result = exc
                    yield submission, result
        finally:  # also on an interruption: drop what has not started, end the processes
            pool.shutdown(wait=True, cancel_futures=True)
