"""The Open311 keys page: town admins list, create and revoke their partners' keys.

parse → access (linli.open311.access) → act (linli.open311.actions) → respond. A new key is
shown once, in the answer to the POST that created it; only its hash and prefix are kept.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.lib.errors import DomainError
from linli.open311 import actions
from linli.open311.access import get_partner_key_for_user
from linli.open311.forms import PartnerKeyForm
from linli.open311.models import PartnerKey
from linli.orgs.models import Town


def _towns(user):
    """The towns whose keys the user manages; PermissionDenied for anyone but town admins."""
    s = user.scope
    if s.superuser:
        return Town.objects.order_by("code")
    if not s.town_ids:
        raise PermissionDenied(_("只有街道/镇管理员可以管理 Open311 接入密钥"))
    return Town.objects.filter(id__in=s.town_ids).order_by("code")


@login_required
def keys(request):
    """The keys of the user's towns and the form to create one (POST creates; the key shows once)."""
    towns = _towns(request.user)
    new_key = None
    status = 200
    if request.method == "POST":
        form = PartnerKeyForm(request.POST, towns=towns)
        if form.is_valid():
            d = form.cleaned_data
            try:
                key, new_key = actions.create_partner_key(
                    actor=request.user,
                    name=d["name"],
                    town=d["town"],
                    community=d["community"],
                    rate_limit_per_minute=d["rate_limit_per_minute"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                form = PartnerKeyForm(towns=towns)
                new_key = {"row": key, "raw": new_key}
        else:
            status = 400
    else:
        form = PartnerKeyForm(towns=towns)
    rows = PartnerKey.objects.managed_by(request.user).select_related("town", "community", "created_by")
    response = render(
        request,
        "open311/keys.html",
        {"form": form, "keys": rows.order_by("-created_at", "-id"), "new_key": new_key, "towns": towns},
        status=status,
    )
    if new_key:
        # The key is in this page only: never cached, never stored by the browser's history cache.
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def key_revoke(request, pk):
    _towns(request.user)
    key = get_partner_key_for_user(request, pk)
    try:
        actions.revoke_partner_key(key, actor=request.user, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已吊销 %(name)s 的密钥 %(prefix)s…") % {"name": key.name, "prefix": key.prefix})
    return redirect("open311_keys")
