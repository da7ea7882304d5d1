"""Use cases: one module per capability. Each takes the unit of work, the actor, the time and a plain input,
applies every rule and audit, and returns a result object the chat layer renders."""
