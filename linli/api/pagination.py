"""Pagination of every list of the API: `limit` (1–100, default 20) and `offset`; answers carry
`items` and `count` (the number of rows matching the filters, not only this page).
"""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 100
# Far beyond any real list, and inside a 64-bit OFFSET on SQLite and PostgreSQL (an unbounded
# offset would overflow the driver's integer and fail as a server error).
MAX_OFFSET = 1_000_000_000


class PageIn(Schema):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="每页条数（1–100）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")


class Pagination(LimitOffsetPagination):
    """For @paginate on handlers that return a QuerySet of rows the item schema reads directly."""

    Input = PageIn

    def __init__(self, **kwargs):
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


def page_of(rows, page: PageIn, present=None) -> dict:
    """`{"items": [...], "count": N}` of a QuerySet or a list, each item passed through `present`.

    For handlers whose items are built per row (fit reasons, the viewer's own flags): the count
    is one COUNT query (or len of a list), the page one query.
    """
    window = rows[page.offset : page.offset + page.limit]
    items = list(window)
    count = len(rows) if isinstance(rows, list) else rows.count()
    return {"items": [present(row) for row in items] if present else items, "count": count}
