"""Outbound text messages behind a small interface (no gateway is reachable from here).

Like Django's email backends: settings.SMS_BACKEND names a class with send(phone, text).
The console backend prints a masked phone so no raw number reaches a log.
"""

import sys
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from linli.lib.masking import mask_phone


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[sms to {mask_phone(phone)}] {text}\n")
        sys.stdout.flush()


class LocmemBackend:
    """Keeps messages in memory, for tests: inspect LocmemBackend.outbox."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        LocmemBackend.outbox.append((phone, text))


@lru_cache(maxsize=1)
def _backend(path: str):
    return import_string(path)()


def send_sms(phone: str, text: str) -> None:
    if phone:
        _backend(settings.SMS_BACKEND).send(phone, text)
