"""Registers in and out: download a template, import a filled-in file, export a register.

parse → access → act (linli.people.actions.import_register) → respond. Only town admins and
community staff use these pages; for anyone else they do not exist (404). What a user may
import into and export is their scope: the QuerySets' visible_to(), Community.staffed_by().
"""

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry, Role
from linli.lib import xlsx
from linli.lib.errors import DomainError
from linli.people import actions
from linli.people.registers import REGISTERS, export_table, template_workbook

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a 40,000-row register is about 3 MB as .xlsx
MAX_ROWS = 100_000
SHOWN_ERRORS = 500  # the page lists this many; the count says how many there are in all
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _register(kind: str):
    register = REGISTERS.get(kind)
    if register is None:
        raise Http404
    return register


def _require_registrar(request) -> None:
    """Town admins and community staff keep registers; for everyone else the pages are 404."""
    user = request.user
    if not (user.is_superuser or user.has_role(Role.TOWN_ADMIN, Role.COMMUNITY_STAFF)):
        raise Http404


def _filename(register, suffix: str) -> str:
    return f"{register.title}{suffix}".replace("/", "_")


@login_required
@require_GET
def index(request):
    _require_registrar(request)
    return render(request, "people/registers/index.html", {"registers": REGISTERS.values()})


@login_required
@require_GET
def template(request, kind):
    register = _register(kind)
    _require_registrar(request)
    content = template_workbook(kind)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=_filename(register, _("导入模板") + ".xlsx"),
        content_type=XLSX_TYPE,
    )


@login_required
@require_GET
def upload(request, kind):
    register = _register(kind)
    _require_registrar(request)
    return render(request, "people/registers/upload.html", _context(register))


@login_required
@require_POST
def import_file(request, kind):
    """Check every row; save all of them in one transaction, or none and list the errors."""
    register = _register(kind)
    _require_registrar(request)
    upload = request.FILES.get("file")
    context = _context(register)
    problem = _upload_problem(upload)
    if problem:
        return _respond(request, {**context, "file_error": problem})
    try:
        table = xlsx.read_table(upload, upload.name, max_rows=MAX_ROWS)
    except xlsx.UnreadableFile as exc:
        return _respond(request, {**context, "file_error": str(exc)})
    try:
        imported = actions.import_register(kind, table, actor=request.user, request=request)
    except actions.ImportRejected as exc:
        return _respond(
            request,
            {
                **context,
                "rejected": True,
                "errors": exc.errors[:SHOWN_ERRORS],
                "error_count": len(exc.errors),
                "hidden_errors": max(0, len(exc.errors) - SHOWN_ERRORS),
                "total": exc.total,
                "filename": upload.name,
            },
        )
    except DomainError as exc:
        return _respond(request, {**context, "file_error": exc.message})
    return _respond(request, {**context, "imported": imported, "filename": upload.name})


def _upload_problem(upload) -> str:
    if upload is None:
        return _("请选择要导入的文件")
    if upload.size == 0:
        return _("文件是空的")
    if upload.size > MAX_UPLOAD_BYTES:
        return _("文件太大（上限 %(mb)d MB），请拆分后分批导入") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    return ""


def _context(register) -> dict:
    return {"register": register, "kind": register.kind, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}


def _respond(request, context):
    # htmx posts swap only the result into the page; a plain post gets the whole page.
    name = "people/registers/upload.html"
    return render(request, f"{name}#result" if request.htmx else name, context)


@login_required
@require_GET
def export(request, kind):
    """The register as the user may see it, personal data masked; audited with its row count."""
    register = _register(kind)
    _require_registrar(request)
    headers, widths, rows = export_table(kind, request.user)
    output, count = xlsx.write_table(headers, rows, title=str(register.title), widths=widths)
    record_audit(request.user, AuditEntry.Action.EXPORT, detail={"register": kind, "rows": count}, request=request)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return FileResponse(
        output, as_attachment=True, filename=_filename(register, f"-{stamp}.xlsx"), content_type=XLSX_TYPE
    )
