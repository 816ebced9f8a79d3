"""The caller's notification inbox over JSON: list, unread count, mark one or all read.

A notification belongs to one user: every query starts from `request.user.notifications`, so
someone else's is a 404. Marking read is linli.accounts.actions.mark_notifications_read.
"""

from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from linli.accounts.actions import mark_notifications_read
from linli.api.pagination import Pagination
from linli.api.schemas import ERRORS, MarkedOut, NotificationFilters, NotificationOut, UnreadCountOut

router = Router(tags=["notifications"])


@router.get(
    "/notifications",
    response={200: list[NotificationOut], **ERRORS},
    operation_id="list_notifications",
    summary="我的通知",
)
@paginate(Pagination)
def list_notifications(request, filters: Query[NotificationFilters]):
    """Newest first; `unread=true` for the unread ones only."""
    qs = request.user.notifications.order_by("-created_at", "-id")
    if filters.unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@router.get(
    "/notifications/unread-count",
    response={200: UnreadCountOut, **ERRORS},
    operation_id="count_unread_notifications",
    summary="未读通知数",
)
def count_unread_notifications(request):
    return {"unread": request.user.notifications.filter(read_at__isnull=True).count()}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    operation_id="mark_notification_read",
    summary="标记一条通知为已读",
)
def mark_notification_read(request, notification_id: int):
    """Marking one already read changes nothing and answers it as it is."""
    notification = get_object_or_404(request.user.notifications, pk=notification_id)
    mark_notifications_read(actor=request.user, ids=[notification.pk])
    return get_object_or_404(request.user.notifications, pk=notification.pk)


@router.post(
    "/notifications/read-all",
    response={200: MarkedOut, **ERRORS},
    operation_id="mark_all_notifications_read",
    summary="全部标记为已读",
)
def mark_all_notifications_read(request):
    return {"marked": mark_notifications_read(actor=request.user)}
