"""The house rules of docs/architecture.md, checked on the source itself.

(a) Only actions change state: no module outside actions assigns `.status` or saves, creates,
    updates or deletes rows.
(b) Views obtain objects through access helpers, never with a bare lookup.
(c) The layers hold (import-linter).

The detectors are heuristics over the syntax tree; each is proven on a planted snippet below, so
a detector that stopped seeing anything would fail its own test.
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Calls that write rows. `save` and `delete` count only without positional arguments (a model's
# save() takes keywords; workbook.save(buffer) and cache.delete(key) are not ours), `update` only
# with keywords alone (QuerySet.update(status=…); dict.update(other) and set.update(it) are not)
# and not on a name the module binds to a dict (kwargs = {…}; kwargs.update(key=…)).
CREATORS = {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}

# Modules whose job is to write. Every entry says why.
ALLOWED_MODULES = (
    # The rule itself: every state change is a function in an actions module (Excel imports too).
    lambda rel: rel.endswith("/actions.py") or "/actions/" in rel,
    # Schema and data migrations.
    lambda rel: "/migrations/" in rel,
    # Test builders arrange rows directly (and say so).
    lambda rel: rel == "linli/testing.py",
    # The demo town generator bulk-inserts a whole town.
    lambda rel: rel.startswith("linli/demo/"),
)
# Single writers allowed outside actions: (module, the model name the call starts from).
ALLOWED_WRITERS = {
    # The notification task is the one place inbox rows are delivered (idempotently, by dedupe_key).
    ("linli/accounts/tasks.py", "Notification"),
    # Not a domain object: the task backend's own queue rows, put back when a worker died.
    ("linli/lib/tasks.py", "DBTaskResult"),
}
# admin.py files need no entry: Django's ModelAdmin saves the configuration objects edited there
# (docs/decisions/0001-admin-edits-configuration.md), so the admin modules themselves hold no
# writer. One that did would slip past the admin's read-only rule for objects with statuses.


def _root_name(node) -> str:
    """The name an attribute/call chain starts from: `Notification` in Notification.objects.create."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


_DICT_MAKERS = {"dict", "defaultdict", "OrderedDict", "Counter"}


def _dict_names(tree) -> set[str]:
    """Names bound to a dict in this module (a literal, dict(…), **kwargs): their .update() is not ours."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node.args.kwarg:
            names.add(node.args.kwarg.arg)
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        value = node.value
        made = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _DICT_MAKERS
        if made or isinstance(value, (ast.Dict, ast.DictComp)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _writes(node, dicts=frozenset()) -> str | None:
    """What `node` does that only actions may do, or None."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and sub.attr == "status":
                    return "assigns .status"
        return None
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
        name = node.args[1]
        if isinstance(name, ast.Constant) and name.value == "status":
            return "sets status with setattr()"
        return None
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr in CREATORS:
        return f"calls .{func.attr}()"
    if func.attr in ("save", "delete") and not node.args:
        return f"calls .{func.attr}()"
    if func.attr == "update" and not node.args and node.keywords:
        if isinstance(func.value, ast.Name) and func.value.id in dicts:
            return None  # a dict's update(key=…), not QuerySet.update(field=…)
        return "calls .update()"
    return None


def _own_status_outside_models(tree) -> set[int]:
    """`self.status = …` in classes that are not models (an exception's HTTP status, say)."""
    exempt = set()
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and not any(ast.unparse(b).endswith("Model") for b in cls.bases):
            for node in ast.walk(cls):
                if isinstance(node, ast.Assign) and any(ast.unparse(t) == "self.status" for t in node.targets):
                    exempt.add(id(node))
    return exempt


def state_change_violations(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "linli").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if any(allowed(rel) for allowed in ALLOWED_MODULES):
            continue
        tree = ast.parse(path.read_text(), filename=rel)
        exempt = _own_status_outside_models(tree)
        dicts = _dict_names(tree)
        hits = []
        for node in ast.walk(tree):
            what = _writes(node, dicts)
            if what is None or id(node) in exempt:
                continue
            if isinstance(node, ast.Call) and (rel, _root_name(node.func)) in ALLOWED_WRITERS:
                continue
            hits.append((node.lineno, f"{rel}:{node.lineno}: {what}: {ast.unparse(node)[:100]}"))
        found += [line for _, line in sorted(hits)]
    return found


# --- (b) views fetch through access helpers -------------------------------------------------


def _is_view_module(rel: str) -> bool:
    if "/migrations/" in rel:
        return False
    # views.py, register_views.py …, a views/ package, and the API and Open311 apps.
    return rel.endswith("views.py") or "/views/" in rel or rel.startswith(("linli/api/", "linli/open311/"))


def _owner_scoped(call: ast.Call) -> bool:
    """get_object_or_404(request.user.notifications, …): the user's own rows, scoped by construction."""
    if not call.args:
        return False
    text = ast.unparse(call.args[0])
    return text == "request.user" or text.startswith("request.user.")


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _takes_an_id(func) -> bool:
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)]
    return any(n in ("pk", "id") or n.endswith(("_pk", "_id")) for n in names)


def view_violations(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "linli").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not _is_view_module(rel):
            continue
        tree = ast.parse(path.read_text(), filename=rel)
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        calls = {name: [c for c in ast.walk(f) if isinstance(c, ast.Call)] for name, f in functions.items()}
        for name, function_calls in calls.items():
            for call in function_calls:
                called = _called_name(call)
                if called in ("get_object_or_404", "get_list_or_404") and not _owner_scoped(call):
                    found.append(f"{rel}:{call.lineno}: {name}() uses {called}() instead of an access helper")
                if (
                    called == "get"
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Attribute)
                    and call.func.value.attr == "objects"
                ):
                    found.append(f"{rel}:{call.lineno}: {name}() uses .objects.get() instead of an access helper")
        # Functions that fetch through a helper, directly or through another function of the module.
        fetching = {
            name
            for name, function_calls in calls.items()
            if any(
                _called_name(c).endswith("_for_user") or (_called_name(c) == "get_object_or_404" and _owner_scoped(c))
                for c in function_calls
            )
        }
        grown = True
        while grown:
            more = {n for n, cs in calls.items() if n not in fetching and any(_called_name(c) in fetching for c in cs)}
            fetching |= more
            grown = bool(more)
        for name, function in functions.items():
            if _takes_an_id(function) and name not in fetching:
                found.append(f"{rel}:{function.lineno}: {name}() takes an id but fetches through no access helper")
    return found


# --- the rules on this repository ---------------------------------------------------------------


def test_only_actions_change_state():
    assert state_change_violations(ROOT) == []


def test_views_fetch_through_access_helpers():
    assert view_violations(ROOT) == []


def test_import_layers_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    # --no-cache: other checkouts and runs share the tree; nothing is written.
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the detectors see what they must, and only that ------------------------------------------------

PLANTED = textwrap.dedent(
    """
    from linli.people.models import Registration

    def approve(request, pk):
        registration = Registration.objects.get(pk=pk)
        registration.status = "approved"
        registration.save()
        Registration.objects.filter(pk=pk).update(status="approved")
        Registration.objects.create(community_id=1)
        registration.events.create(to_status="approved")
        Registration.objects.bulk_create([])
        registration.delete()
        setattr(registration, "status", "declined")
        return get_object_or_404(Registration, pk=pk)

    def harmless(request, workbook, buffer, cache, mapping, extra, **options):
        workbook.save(buffer)
        cache.delete("key")
        mapping.update(extra)
        fields = {"title": "x"}
        fields.update(anonymous=True)
        options.update(anonymous=True)
        return get_object_or_404(request.user.notifications, pk=1)

    def bulk(pks):
        pending = Registration.objects.filter(pk__in=pks)
        pending.update(status="withdrawn")

    class ApiError(Exception):
        def __init__(self, status):
            self.status = status

    class Order(models.Model):
        def close(self):
            self.status = "closed"
    """
)


def _plant(tmp_path, rel):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLANTED)


def test_state_change_detector_catches_each_planted_write(tmp_path):
    _plant(tmp_path, "linli/people/views.py")
    found = state_change_violations(tmp_path)
    assert [line.split(": ")[1] for line in found] == [
        "assigns .status",
        "calls .save()",
        "calls .update()",
        "calls .create()",
        "calls .create()",
        "calls .bulk_create()",
        "calls .delete()",
        "sets status with setattr()",
        "calls .update()",  # pending.update(…): a queryset kept in a variable
        "assigns .status",  # in the model's method; the exception's own status is not a model's
    ]
    assert not any(word in line for line in found for word in ("workbook", "cache", "mapping", "fields", "options"))
    assert found[-1].endswith("self.status = 'closed'")


def test_state_change_detector_allows_actions_migrations_and_listed_writers(tmp_path):
    for rel in ("linli/people/actions.py", "linli/people/migrations/0002_data.py", "linli/demo/town.py"):
        _plant(tmp_path, rel)
    notification = tmp_path / "linli/accounts/tasks.py"
    notification.parent.mkdir(parents=True)
    notification.write_text("Notification.objects.create(user=u)\nRegistration.objects.create(member=m)\n")
    assert state_change_violations(tmp_path) == [
        "linli/accounts/tasks.py:2: calls .create(): Registration.objects.create(member=m)"
    ]


def test_view_detector_catches_bare_lookups(tmp_path):
    _plant(tmp_path, "linli/people/views.py")
    found = view_violations(tmp_path)
    assert any("approve() uses .objects.get()" in line for line in found)
    assert any("approve() uses get_object_or_404()" in line for line in found)
    assert any("approve() takes an id but fetches through no access helper" in line for line in found)
    assert not any("harmless()" in line for line in found)


def test_view_detector_accepts_helpers_called_directly_or_through_the_module(tmp_path):
    path = tmp_path / "linli/people/views.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        textwrap.dedent(
            """
            def _to_decide(request, pk):
                return get_registration_for_user(request, pk, write=True)

            def approve(request, pk):
                return _to_decide(request, pk)

            def detail(request, pk):
                return get_member_for_user(request, pk)

            def lost(request, pk):
                return pk
            """
        )
    )
    assert [line.split(": ")[1] for line in view_violations(tmp_path)] == [
        "lost() takes an id but fetches through no access helper"
    ]
