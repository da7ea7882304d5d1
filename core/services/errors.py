"""Errors a use case raises; the bot layer turns each into a short polite reply."""


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.code)
        self.details = details


class NotFound(ServiceError):
    code = "not_found"


class NotAllowed(ServiceError):
    code = "not_allowed"


class InvalidInvite(ServiceError):
    code = "invalid_invite"


class AlreadyMember(ServiceError):
    code = "already_member"


class InvalidInput(ServiceError):
    code = "invalid_input"
