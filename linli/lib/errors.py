"""Domain errors raised by actions; each interface maps them to its own format.

Pages show the message; the JSON API answers {"code": ..., "message": ...} with `status`.

Messages are translated where they are raised (gettext, in the request's language); `code` never
is. A lazy translation passed in is turned into str here, so `message` and str(e) are always plain
str (JSON-serialisable).
"""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None):
        message = str(message)
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Conflict(DomainError):
    """The object changed under us (compare-and-set lost) or the transition is not allowed now."""

    status = 409
    code = "conflict"


class NotAllowed(DomainError):
    """The actor may see the object but not do this to it."""

    status = 403
    code = "forbidden"
