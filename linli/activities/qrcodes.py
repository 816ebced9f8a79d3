"""The rotating sign-in code shown at the site: a signed, short-lived token in a URL, drawn as a QR.

The token is django.core.signing.TimestampSigner over the shift id: the signature proves we
made it, the timestamp how old it is. The staff's page fetches a fresh one every REFRESH_SECONDS,
and a token older than MAX_AGE_SECONDS is refused, so a photo or screenshot of the code stops
working within minutes and cannot be used from home the next day.
"""

import segno
from django.core import signing

SALT = "linli.activities.shift-code"
MAX_AGE_SECONDS = 120
REFRESH_SECONDS = 30


class CodeError(Exception):
    """A token we cannot accept: `code` is "tampered" or "expired"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def make_token(shift_id: int) -> str:
    """A fresh token for the shift (URL-safe: digits, letters, '-', '_' and ':')."""
    return _signer().sign(str(int(shift_id)))


def read_token(token: str, *, max_age: int = MAX_AGE_SECONDS) -> int:
    """The shift id in `token`; CodeError("expired") when it is older than max_age seconds,
    CodeError("tampered") when it is not one of ours."""
    try:
        value = _signer().unsign((token or "").strip(), max_age=max_age)
    except signing.SignatureExpired:
        raise CodeError("expired") from None
    except signing.BadSignature:
        raise CodeError("tampered") from None
    try:
        return int(value)
    except ValueError:  # pragma: no cover - we only ever sign integers
        raise CodeError("tampered") from None


def qr_svg(data: str) -> str:
    """An inline <svg> QR code of `data` that scales to its container (viewBox, no fixed size).

    Error correction M: survives glare on a phone screen; dark on white for any camera.
    """
    return segno.make(data, error="m", micro=False).svg_inline(
        scale=1, border=3, dark="#000", light="#fff", omitsize=True, title="签到二维码"
    )
