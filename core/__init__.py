"""The CRM itself: domain, storage, services, understanding, voice, scheduling. Knows no chat platform."""
