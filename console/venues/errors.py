"""Typed errors of the venue clients, carrying the venue's own error code.

Every failure a venue client raises is a `VenueError`, so the engine can catch one type and still
tell the cases apart by class: a refused order (`OrderRejected`) is final and must not be retried; a
rate limit that outlived the client's retries (`RateLimited`) or an exchange that is down
(`VenueUnavailable`) may be retried later; `OutcomeUnknown` means a write may or may not have taken
effect (the engine must block that market until reconciliation, DESIGN.md section 5);
`DecodeError` means the venue answered something the desk cannot read exactly.
"""

from __future__ import annotations


class VenueError(Exception):
    """A venue refused or failed a request. `code` is the venue's code string ("" when it gave none)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "", details: str = "",
                 method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.path else ""
        code = f" [{self.status} {self.code}]" if self.status or self.code else ""
        details = f" ({self.details})" if self.details and self.details not in self.args[0] else ""
        return f"{where}{self.args[0]}{details}{code}"


class AuthError(VenueError):
    """The venue did not accept the API key or signature (401/403): check the key id, key file and clock."""


class RateLimited(VenueError):
    """Still rate limited (429) after the client's backoff budget ran out."""


class NotFound(VenueError):
    """The market, order, event or group does not exist (404)."""


class OrderRejected(VenueError):
    """The venue refused an order write (400/404/409 on an order endpoint); final, do not retry as is."""


class VenueUnavailable(VenueError):
    """The venue could not be reached or kept failing (transport errors, 5xx) after retries."""


class OutcomeUnknown(VenueError):
    """A write was sent but its outcome could not be established (lost response, lookup failed).

    `client_order_id` names the order to reconcile. Until it is reconciled the market must be treated
    as possibly holding that order.
    """

    def __init__(self, message: str, *, client_order_id: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.client_order_id = client_order_id


class DecodeError(VenueError):
    """A venue message that is not exactly readable: a required field missing or a malformed number.

    `what` names the message type or endpoint, `detail` says which field and why (msgspec's path).
    Never replaced by a default value; the caller counts it and surfaces it.
    """

    def __init__(self, what: str, detail: str, **kwargs: object) -> None:
        super().__init__(f"cannot decode {what}: {detail}", **kwargs)  # type: ignore[arg-type]
        self.what = what
        self.detail = detail
