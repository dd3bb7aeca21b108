"""The keys that make each student's numbers: a course secret, an assignment key, a seed.

::

    secret          32 random bytes, made once per course offering; only the instructor has it
    assignment key  HMAC-SHA256(secret, assignment)       released with the assignment
    seed            HMAC-SHA256(assignment key, student)  decides that student's numbers

The released key lets a notebook compute any student's seed, but neither the secret nor the key
of another assignment (HMAC is one-way): the numbers differ between course offerings and cannot be
computed before an assignment is released. Knowing a classmate's numbers does not help: each
student is graded on their own.

Keys and seeds are hexadecimal strings. The key travels in a small JSON file next to the released
notebook, :data:`KEY_FILE`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

__all__ = ["KEY_FILE", "KeyFileError", "assignment_key", "key_file_text", "new_secret", "read_key_file", "variant_seed"]

#: The name of the file, next to a released notebook, that holds the assignment key.
KEY_FILE = "variant_key.json"

_HEX_DIGITS = set("0123456789abcdef")


class KeyFileError(ValueError):
    """A variant key file that cannot be used; the message names the file and what is wrong."""


def _hex(value: str, name: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX_DIGITS:
        raise ValueError(f"{name} must be 64 lowercase hexadecimal digits (32 bytes), got {value!r:.80}")
    return bytes.fromhex(value)


def new_secret() -> str:
    """A fresh course secret: 32 random bytes from the operating system, as hex."""
    return secrets.token_hex(32)


def assignment_key(secret: str, assignment: str) -> str:
    """``HMAC-SHA256(secret, assignment)``: the key released with one assignment."""
    if not isinstance(assignment, str) or not assignment:
        raise ValueError(f"assignment must be a non-empty string, got {assignment!r}")
    return hmac.new(_hex(secret, "secret"), assignment.encode("utf-8"), hashlib.sha256).hexdigest()


def variant_seed(key: str, student: str) -> str:
    """``HMAC-SHA256(assignment key, student)``: the seed of one student's numbers."""
    if not isinstance(student, str) or not student.strip():
        raise ValueError(f"student must be a non-empty string (the student's id), got {student!r}")
    return hmac.new(_hex(key, "key"), student.strip().encode("utf-8"), hashlib.sha256).hexdigest()


def key_file_text(assignment: str, key: str) -> str:
    """The content of :data:`KEY_FILE` for ``assignment``."""
    _hex(key, "key")
    return json.dumps(
        {
            "assignment": assignment,
            "key": key,
            "about": "Computes each student's numbers for this assignment's questions from their id. "
            "It is not a secret; keep it next to the notebook.",
        },
        indent=1,
    ) + "\n"


def read_key_file(path) -> tuple[str, str]:
    """``(assignment, key)`` from a key file; :class:`KeyFileError` naming the file when it is damaged."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assignment, key = data["assignment"], data["key"]
        _hex(key, "key")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(
            f"{path} is not a usable variant key ({type(exc).__name__}: {exc}); "
            "copy it again from your course's release"
        ) from exc
    if not isinstance(assignment, str) or not assignment:
        raise KeyFileError(f"{path} names no assignment; copy it again from your course's release")
    return assignment, key
