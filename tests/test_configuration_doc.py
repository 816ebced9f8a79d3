"""docs/configuration.md lists exactly the environment variables the code reads."""

import ast
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
# Where the product's code lives; bench/ and tests/ set variables for their own runs.
SOURCES = [ROOT / "config", ROOT / "linli", ROOT / "manage.py"]
READERS = {"env_str", "env_bool", "env_int", "env_list", "env_secret"}
OS_READERS = {"get", "setdefault", "pop"}
# The readers themselves take the name as a parameter.
READER_MODULE = "config/env.py"


def _is_os_environ(node) -> bool:
    return ast.unparse(node) in ("os.environ", "environ")


def _reads_environment(func) -> bool:
    """env_str(…), config.env.env_int(…), getenv(…), os.getenv(…), os.environ.get/setdefault/pop(…)."""
    if isinstance(func, ast.Name):
        return func.id in READERS or func.id == "getenv"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in READERS:
        return True
    if func.attr == "getenv":
        return ast.unparse(func.value) == "os"
    return func.attr in OS_READERS and _is_os_environ(func.value)


def names_read(source: str, rel: str = "") -> tuple[set[str], list[str]]:
    """(variable names read, reads whose name is not a literal) in one module's source."""
    names, unreadable = set(), []

    def take(arg, node):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
        elif rel != READER_MODULE:
            unreadable.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
            take(node.args[0], node)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            take(node.slice, node)
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
            take(node.left, node)  # "NAME" in os.environ
    return names, unreadable


def code_variables() -> set[str]:
    names, unreadable = set(), []
    for source in SOURCES:
        for path in [source] if source.is_file() else sorted(source.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found, bad = names_read(path.read_text(), rel)
            names |= found
            unreadable += bad
    assert unreadable == [], "read environment variables by literal name, so they can be documented"
    return names


def documented_variables(text: str) -> dict[str, list[str]]:
    """Rows of the table under '## Environment variables': name → its cells."""
    section = text.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|(.*)\|\s*$", line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    in_code = code_variables()
    in_doc = documented_variables(DOC.read_text())
    assert sorted(in_code - set(in_doc)) == [], "read by the code but missing from docs/configuration.md"
    assert sorted(set(in_doc) - in_code) == [], "documented but no longer read by the code"


def test_each_row_gives_a_default_and_a_meaning():
    for name, cells in documented_variables(DOC.read_text()).items():
        assert len(cells) == 2 and all(cells), f"{name}: expected | name | default | meaning |"


def test_the_scanner_sees_every_way_of_reading():
    source = textwrap.dedent(
        """
        import os
        from os import getenv
        A = env_str("V_STR", "x")
        B = env_bool("V_BOOL", False)
        C = env_int("V_INT", 1)
        D = env_list("V_LIST", [])
        E = env_secret("V_SECRET", path)
        F = os.environ.get("V_GET")
        G = os.environ["V_ITEM"]
        H = os.getenv("V_OS_GETENV")
        I = getenv("V_GETENV")
        os.environ.setdefault("V_SETDEFAULT", "config.settings")
        J = "V_IN" in os.environ
        K = env_str(dynamic_name)
        L = {"NOT_A_VARIABLE": 1}["NOT_A_VARIABLE"]
        """
    )
    names, unreadable = names_read(source, "linli/example.py")
    assert names == {
        "V_STR",
        "V_BOOL",
        "V_INT",
        "V_LIST",
        "V_SECRET",
        "V_GET",
        "V_ITEM",
        "V_OS_GETENV",
        "V_GETENV",
        "V_SETDEFAULT",
        "V_IN",
    }
    assert unreadable == ["linli/example.py:15: env_str(dynamic_name)"]


def test_the_table_parser_reads_only_its_section():
    text = textwrap.dedent(
        """
        # Configuration
        | `BEFORE` | x | y |
        ## Environment variables
        | variable | default | meaning |
        |---|---|---|
        | `ONE` | `1` | first |
        | `TWO` | empty | second |
        ## Later
        | `AFTER` | x | y |
        """
    )
    assert documented_variables(text) == {"ONE": ["`1`", "first"], "TWO": ["empty", "second"]}
