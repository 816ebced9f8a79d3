"""The only way a view obtains a dispatch run or scope: outside the user's scope is a 404."""

from django.http import Http404

from linli.dispatch.loading import DispatchScope
from linli.dispatch.models import DispatchRun


def get_scope_for_user(request, kind, pk) -> DispatchScope:
    """The dispatch scope (grid / community / town) if the user may run dispatch there, else 404."""
    scope = DispatchScope.resolve(kind, pk)
    if scope is None or not scope.allowed_for(request.user.scope):
        raise Http404("no such dispatch scope")
    return scope


def get_run_for_user(request, pk) -> DispatchRun:
    """A run whose scope the user may run dispatch for, else 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("no such run") from None
    run = DispatchRun.objects.visible_to(request.user).select_related("created_by", "decided_by").filter(pk=pk).first()
    if run is None:
        raise Http404("no such run")
    return run
