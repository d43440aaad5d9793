"""Errors that reach a person: one clear sentence, never a traceback."""


class KalanError(Exception):
    """A failure caused by input or environment, with a message for the user."""

    exit_code = 2


class NotFound(KalanError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class PermissionDenied(KalanError):
    """The caller may not see or change the thing."""


class ValidationFailed(KalanError):
    """Input was refused; `problems` lists every reason, nothing was written."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
