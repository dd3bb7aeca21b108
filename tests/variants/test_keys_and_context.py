"""cnnlib.variants: the keys (HMAC as documented), the key file, and whose variant each place
uses (the grader's context, the imposed variant, a personal copy, JupyterHub, STUDENT_ID, none)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from cnnlib import variants
from cnnlib.variants import context

SECRET = "5e" * 32


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    """No variant imposed or loaded by an earlier test, and no JupyterHub in the environment."""
    monkeypatch.setattr(context, "_imposed", None)
    monkeypatch.setattr(context, "_loaded", None)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)


def test_keys_are_the_documented_hmacs():
    key = variants.assignment_key(SECRET, "03_output_size_arithmetic")
    assert key == hmac.new(bytes.fromhex(SECRET), b"03_output_size_arithmetic", hashlib.sha256).hexdigest()
    assert variants.variant_seed(key, "alice") == hmac.new(bytes.fromhex(key), b"alice", hashlib.sha256).hexdigest()
    assert variants.variant_seed(key, " alice\n") == variants.variant_seed(key, "alice")  # an id typed with spaces


def test_keys_differ_by_secret_assignment_and_student():
    key = variants.assignment_key(SECRET, "a")
    assert key != variants.assignment_key(SECRET, "b")
    assert key != variants.assignment_key(variants.new_secret(), "a")
    assert variants.variant_seed(key, "alice") != variants.variant_seed(key, "bob")
    assert variants.new_secret() != variants.new_secret()


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: variants.assignment_key("not hex", "a"), "secret must be 64"),
        (lambda: variants.assignment_key(SECRET, ""), "assignment must be a non-empty string"),
        (lambda: variants.variant_seed(SECRET, "  "), "student must be a non-empty string"),
        (lambda: variants.variant_seed(SECRET[:10], "alice"), "key must be 64"),
    ],
)
def test_bad_keys_are_named(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_key_file_round_trip_and_damage(tmp_path):
    key = variants.assignment_key(SECRET, "03_x")
    path = tmp_path / variants.KEY_FILE
    path.write_text(variants.key_file_text("03_x", key))
    assert variants.read_key_file(path) == ("03_x", key)
    assert SECRET not in path.read_text()
    path.write_text(json.dumps({"assignment": "03_x", "key": "abc"}))
    with pytest.raises(variants.KeyFileError, match=str(path)):
        variants.read_key_file(path)
    path.write_text("{")
    with pytest.raises(variants.KeyFileError, match="copy it again"):
        variants.read_key_file(path)


def _key_dir(tmp_path, assignment="03_x"):
    (tmp_path / variants.KEY_FILE).write_text(variants.key_file_text(assignment, variants.assignment_key(SECRET, assignment)))
    return tmp_path


def _seed(student, assignment="03_x"):
    return variants.variant_seed(variants.assignment_key(SECRET, assignment), student)


def test_alone_without_key_or_id_is_the_default(tmp_path):
    variant, message = variants.resolve("", key_dir=tmp_path)
    assert variant == variants.DEFAULT and "default numbers" in message


def test_student_id_with_the_released_key(tmp_path):
    variant, message = variants.resolve("alice", key_dir=_key_dir(tmp_path))
    assert variant.student == "alice" and variant.seed == _seed("alice")
    assert "'alice' (from STUDENT_ID)" in message


def test_jupyterhub_user_comes_before_student_id(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    variant, message = variants.resolve("", key_dir=_key_dir(tmp_path))
    assert (variant.student, variant.seed) == ("bob", _seed("bob")) and "JupyterHub" in message
    variant, message = variants.resolve("alice", key_dir=tmp_path)
    assert variant.student == "bob" and "STUDENT_ID says 'alice'" in message


def test_key_without_id_asks_for_it(tmp_path):
    variant, message = variants.resolve("  ", key_dir=_key_dir(tmp_path))
    assert variant.is_default
    assert "write your student id" in message and "not yours" in message


def test_id_without_key_says_the_numbers_are_the_default(tmp_path):
    variant, message = variants.resolve("alice", key_dir=tmp_path)
    assert variant.is_default and variants.KEY_FILE in message and "'alice'" in message


def test_damaged_key_file_is_named(tmp_path):
    (tmp_path / variants.KEY_FILE).write_text("not json")
    variant, message = variants.resolve("alice", key_dir=tmp_path)
    assert variant.is_default and variants.KEY_FILE in message and "not yours" in message


def test_personal_copy_needs_no_key(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "someone-else")
    variant, message = variants.resolve("alice", seed=_seed("alice"), key_dir=tmp_path)
    assert (variant.student, variant.seed) == ("alice", _seed("alice")) and "made for you" in message


def test_imposed_variant_wins_over_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    imposed = variants.Variant("carol", _seed("carol"), "the submitted folder")
    variants.impose(imposed)
    assert variants.resolve("alice", key_dir=_key_dir(tmp_path))[0] == imposed
    assert variants.resolve("alice", seed=_seed("alice"))[0] == imposed
    assert variants.load("03", "alice", key_dir=tmp_path).variant == imposed
    assert variants.current() == imposed


def test_current_prefers_the_graders_context(tmp_path, capsys):
    questions = variants.load("03", "alice", key_dir=_key_dir(tmp_path))
    assert "'alice'" in capsys.readouterr().out
    assert variants.current() == questions.variant
    graded = variants.Variant("bob", _seed("bob"))
    with variants.grading(graded):
        assert variants.current() == graded
        with variants.grading(variants.DEFAULT):
            assert variants.current() == variants.DEFAULT
    assert variants.current() == questions.variant


def test_variant_json_round_trip():
    variant = variants.Variant("alice", _seed("alice"), "the submitted folder")
    assert variants.Variant.from_json(json.loads(json.dumps(variant.to_json()))) == variant
    assert variants.Variant.from_json(None) == variants.DEFAULT == variants.Variant.from_json({})


def test_unknown_notebook_is_named():
    with pytest.raises(ValueError, match="two-digit"):
        variants.question_set("3")
    with pytest.raises(ValueError, match="no varied questions"):
        variants.question_set("99")
