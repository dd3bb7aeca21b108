"""Sandboxed execution of student code: policy, fork server, worker, client."""
