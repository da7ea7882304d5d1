"""Platform adapters: translate updates into `core.chat.Incoming` and replies into API calls; no business rules."""
