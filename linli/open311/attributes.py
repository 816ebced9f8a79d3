"""Answers to a category's extra questions, as a partner POSTs them.

`attribute[CODE]=v`, and for a multivaluelist `attribute[CODE][]=v1&attribute[CODE][]=v2` (either
form is accepted for either list type). Questions that take no input (`variable` false) and codes
the definition does not know are ignored; required questions must be answered.
"""

import re
from decimal import Decimal, InvalidOperation

from linli.open311.models import Datatype, ServiceAttribute
from linli.open311.render import parse_w3c, w3c

MAX_STRING = 500
MAX_TEXT = 4000

_NAME = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def submitted(data) -> dict[str, list[str]]:
    """code → the non-empty values sent for it, from a QueryDict (body and query string merged)."""
    values: dict[str, list[str]] = {}
    for name in data:
        match = _NAME.match(name)
        if match:
            sent = [v.strip() for v in data.getlist(name) if v and v.strip()]
            values.setdefault(match.group(1), []).extend(sent)
    return values


def _one(a: ServiceAttribute, value: str, names: dict[str, str]) -> str:
    """One value checked against the question's datatype, normalised; ValueError says why."""
    if a.datatype == Datatype.STRING and len(value) > MAX_STRING:
        raise ValueError(f"不能超过{MAX_STRING}字")
    if a.datatype == Datatype.TEXT and len(value) > MAX_TEXT:
        raise ValueError(f"不能超过{MAX_TEXT}字")
    if a.datatype == Datatype.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("应为数字") from None
        if not number.is_finite():
            raise ValueError("应为数字")
        return format(number, "f")
    if a.datatype == Datatype.DATETIME:
        try:
            return w3c(parse_w3c(value))
        except ValueError:
            raise ValueError("应为带时区的 W3C 日期时间，如 2026-01-01T08:00:00+08:00") from None
    if a.datatype in (Datatype.SINGLE, Datatype.MULTI) and value not in names:
        raise ValueError(f"“{value}”不是可选的取值")
    return value


def clean(questions: list[ServiceAttribute], data) -> tuple[list[dict], list[str]]:
    """(answers in the definition's order, problems). Answers: {code, question, value[, names]}."""
    sent = submitted(data)
    answers, problems = [], []
    for a in questions:
        if not a.variable:
            continue
        values = sent.get(a.code, [])
        if not values:
            if a.required:
                problems.append(f"缺少必填的补充信息 attribute[{a.code}]（{a.description}）")
            continue
        names = {v.key: v.name for v in a.values.all()}
        if a.datatype != Datatype.MULTI and len(values) > 1:
            problems.append(f"attribute[{a.code}] 只能有一个取值")
            continue
        try:
            cleaned = [_one(a, value, names) for value in values]
        except ValueError as exc:
            problems.append(f"attribute[{a.code}]：{exc}")
            continue
        answer = {"code": a.code, "question": a.description}
        if a.datatype == Datatype.MULTI:
            answer["value"] = list(dict.fromkeys(cleaned))
            answer["names"] = [names[v] for v in answer["value"]]
        else:
            answer["value"] = cleaned[0]
            if a.datatype == Datatype.SINGLE:
                answer["names"] = [names[cleaned[0]]]
        answers.append(answer)
    return answers, problems


def summary(answers: list[dict]) -> str:
    """The answers as lines staff read on the order: `question：answer`."""
    lines = []
    for answer in answers:
        shown = "、".join(answer["names"]) if "names" in answer else answer["value"]
        lines.append(f"{answer['question']}：{shown}")
    return "\n".join(lines)
