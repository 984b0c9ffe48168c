"""One pagination for every list endpoint of the API: limit and offset, one envelope.

Every list answers

    {"count": 120, "items": [...], "limit": 50, "offset": 0, "next_offset": 50}

* `count` is the number of rows matching the filters (all pages), `items` this page's rows.
* `limit` and `offset` are the page that was served (the defaults filled in).
* `next_offset` is the offset of the next page, or null on the last page: a phone loops
  `while next_offset is not None` without doing the arithmetic.
* `limit` is 1…200 by default (50 when not given); a few lists allow more (`max_limit`). A
  limit over the maximum is refused with the usual 422 `invalid_input`, never silently clamped,
  so a client never mistakes a short page for the end. `offset` is 0…1,000,000.
* An offset past the end answers `items: []` with the right `count` and `next_offset: null`.
* Rows are ordered by a unique key last (the primary key is appended when the ordering does not
  end in one), so pages neither skip nor repeat rows while nothing changes.

Lists that answered a bare JSON array before issue #10 (grids, org units, units, a unit's
assignments, teams, a task's sign-ups, shops, the daily review and the due visits) keep
answering that array, so apps built against them keep working: the array is the page's
`items`. They answer the envelope when asked with `paged=true`, which new clients should
always send. In the array form `limit` and `offset` mean what they mean in the envelope; only
the default differs where the list was not paged before (then all rows, as before).

It is ninja's own mechanism: `@paginated()` is `ninja.pagination.paginate` with `Pagination`,
a `PaginationBase` whose `Input` is the shared `PageIn`. The view returns the rows (a queryset
or a list) or a `Listing` that also says how to turn the page's rows into items and which other
keys the body keeps (`total` on incidents, `signups` on the volunteers' history). The route
declares its envelope as `response=` (a `PageOut` subclass with typed items), so the OpenAPI
document names and describes it.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from ninja import Schema
from ninja.pagination import PaginationBase, paginate
from pydantic import Field

from .schemas import PageIn, QueryBool

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


class PageOut(Schema):
    """The envelope. Subclasses type `items` (and add the keys an endpoint kept)."""

    count: int = Field(description="Rows matching the filters, over all pages")
    items: list[Any]
    limit: int = Field(description="The page size served")
    offset: int = Field(description="The offset served")
    next_offset: int | None = Field(description="Offset of the next page; null on the last page")


@cache
def page_input(max_limit: int = MAX_LIMIT, *, legacy_array: bool = False) -> type[PageIn]:
    """`PageIn`, or a copy of it allowing up to `max_limit` rows a page; for a list that
    answered a bare array, with `paged` and a `limit` that may be left out."""
    if max_limit == MAX_LIMIT and not legacy_array:
        return PageIn
    if not legacy_array:

        class WidePageIn(PageIn):
            limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=max_limit)

        WidePageIn.__name__ = WidePageIn.__qualname__ = f"PageIn{max_limit}"
        return WidePageIn

    class ArrayPageIn(PageIn):
        limit: int | None = Field(  # type: ignore[assignment]
            default=None,
            ge=1,
            le=max_limit,
            description=f"Rows a page, 1-{max_limit}; default {DEFAULT_LIMIT} with paged=true",
        )
        paged: QueryBool = Field(
            default=False,
            description=(
                "true: answer the page envelope {count, items, limit, offset, next_offset}; "
                "false (the default, for apps built before it): the bare array of items"
            ),
        )

    ArrayPageIn.__name__ = ArrayPageIn.__qualname__ = f"ArrayPageIn{max_limit}"
    return ArrayPageIn


@dataclass
class Listing:
    """What a paginated view returns when rows are not items as they are.

    `render` turns one page of rows into items (one call a page: prefetch, batch look-ups);
    `extra` adds keys to the body, or computes them from the body built so far.
    """

    rows: QuerySet | Sequence
    render: Callable[[list], list] | None = None
    extra: Mapping[str, Any] | Callable[[dict], Mapping[str, Any]] = field(default_factory=dict)


def stable(qs: QuerySet) -> QuerySet:
    """The queryset ordered by its ordering plus the primary key, unless that ends in one."""
    ordering = list(qs.query.order_by) or (
        list(qs.model._meta.ordering) if qs.query.default_ordering else []
    )
    pk_names = {"pk", "id", qs.model._meta.pk.name, qs.model._meta.pk.attname}
    last = str(ordering[-1]).lstrip("-") if ordering else ""
    if last in pk_names:
        return qs
    return qs.order_by(*ordering, "pk")


class Pagination(PaginationBase):
    """Limit/offset into the one envelope (see the module's docstring)."""

    # The route declares its envelope itself; ninja is not to rewrite the response model.
    Output = None  # type: ignore[assignment]

    def __init__(
        self,
        *,
        max_limit: int = MAX_LIMIT,
        legacy_array: bool = False,
        array_limit: int | None = DEFAULT_LIMIT,
        **kwargs: Any,
    ) -> None:
        self.max_limit = max_limit
        self.legacy_array = legacy_array
        self.array_limit = array_limit
        self.Input = page_input(max_limit, legacy_array=legacy_array)  # type: ignore[assignment]
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset, pagination: PageIn, request, **params) -> Any:
        if isinstance(queryset, HttpResponse):
            return queryset  # another format of the same list (a GeoJSON export)
        listing = queryset if isinstance(queryset, Listing) else Listing(queryset)
        rows = listing.rows
        if isinstance(rows, QuerySet):
            rows = stable(rows)
        offset = pagination.offset
        if self.legacy_array and not getattr(pagination, "paged", False):
            # The bare array, without counting: what the list answered before it was paged.
            limit = pagination.limit or self.array_limit
            end = None if limit is None else offset + limit
            return self._render(listing, list(rows[offset:end]))
        count = rows.count() if isinstance(rows, QuerySet) else len(rows)
        limit = pagination.limit or DEFAULT_LIMIT
        page = list(rows[offset : offset + limit]) if offset < count else []
        items = self._render(listing, page)
        end = offset + len(page)
        body = {
            "count": count,
            "items": items,
            "limit": limit,
            "offset": offset,
            "next_offset": end if page and end < count else None,
        }
        extra = listing.extra(body) if callable(listing.extra) else listing.extra
        body.update(extra)
        return body

    @staticmethod
    def _render(listing: Listing, rows: list) -> list:
        return listing.render(rows) if listing.render is not None and rows else rows


def paginated(
    *,
    max_limit: int = MAX_LIMIT,
    legacy_array: bool = False,
    array_limit: int | None = DEFAULT_LIMIT,
):
    """`@paginated()` under `@router.get(..., response=SomePageOut)`: page the view's rows.

    `legacy_array=True` for a list that answered a bare array (`response=list[Item] |
    SomePageOut`): the array unless `paged=true`. `array_limit` is the array's default page
    (None: all rows, for a list that was not paged before).
    """
    return paginate(
        Pagination, max_limit=max_limit, legacy_array=legacy_array, array_limit=array_limit
    )
