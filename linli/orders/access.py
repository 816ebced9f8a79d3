"""The only way a view or endpoint obtains an order: outside the user's scope is a 404."""

from django.http import Http404

from linli.orders.models import Order


def get_order_for_user(request, pk, *, write: bool = False) -> Order:
    """The order if `request.user` may see it (Order.objects.visible_to), else Http404.

    `write` is accepted for symmetry with the other helpers: who may do what to a visible order
    is decided by each action (staff, assignee, department, submitter), which raises NotAllowed.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("no such order") from None
    qs = Order.objects.visible_to(request.user).select_related(
        "community", "grid", "category", "assignee", "assignee_unit", "department", "household", "submitted_by"
    )
    try:
        return qs.get(pk=pk)
    except Order.DoesNotExist:
        raise Http404("no such order") from None
