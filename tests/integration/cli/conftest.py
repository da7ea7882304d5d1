"""Every test here runs under the audit guard (tests/audit_guard.py): a committed transaction of the app that
wrote domain rows without an audit event fails the test."""

from tests.audit_guard import audit_guard, audit_guard_everywhere  # noqa: F401
