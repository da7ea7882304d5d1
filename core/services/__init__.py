"""Use cases: plain functions taking a Session and an Actor. No chat platform knowledge."""
