"""Background work for accounts: notification delivery (idempotent, safe to retry)."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django_tasks import task

from linli.lib.sms import send_sms


@task()
def deliver_notification(user_ids: list[int], title: str, body: str, url: str, dedupe_key: str) -> int:
    """Put one message in each user's inbox; a retry after a crash adds nothing twice.

    Returns how many new inbox rows were written.
    """
    from linli.accounts.models import Notification

    created = 0
    for user in get_user_model().objects.filter(id__in=user_ids):
        try:
            with transaction.atomic():
                Notification.objects.create(user=user, title=title, body=body, url=url, dedupe_key=dedupe_key)
        except IntegrityError:
            continue  # delivered by an earlier run of this task
        created += 1
        phone = _contact_phone(user)
        if phone:
            send_sms(phone, f"【邻里】{title}")
    return created


def _contact_phone(user) -> str:
    member = getattr(user, "member_profile", None)  # RelatedObjectDoesNotExist is an AttributeError
    if member is not None and member.consent_contact_at:
        return member.phone
    return ""
