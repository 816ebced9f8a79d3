"""How personal data is shown to people who may not see all of it."""


def mask_id_number(number: str | None) -> str:
    """First 6 + last 4 (the region and the check), the rest starred."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """138****1234 for mobile numbers; other numbers keep only their last 4."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    if len(phone) <= 4:
        return "*" * len(phone)
    return "*" * (len(phone) - 4) + phone[-4:]


def mask_name(name: str | None) -> str:
    """张** — used on public pages (certificate checks, public lists)."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
