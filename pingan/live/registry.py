"""What the transport knows about the domains: each domain app registers, in its `ready()`,

- a *source*: an append-only table whose new rows are pushed, and the function that turns a
  batch of its row ids into deliveries (the domain's audience rules and message shape), plus,
  when pages catch up on reconnect, the key of the resync message and the catch-up query;
- a *groups* function: the channel groups a signed-in user's socket joins for that domain.

`live` itself never imports a domain module: the dependency points from the domains to it.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    groups: tuple[str, ...]
    body: dict


@dataclass(frozen=True)
class Source:
    name: str
    table: str  # the durable log, read by id (ids only ever grow)
    deliveries: Callable[[list[int]], list[Delivery]]
    # The key a reconnecting page sends with the last id it has (e.g. "since"), and the query
    # that returns the bodies it missed, already scoped to the user.
    resync_key: str | None = None
    catch_up: Callable[[object, int, int], list[dict]] | None = None  # (user, since, limit)


_sources: dict[str, Source] = {}
_group_providers: list[Callable[[object], list[str]]] = []


def register_source(source: Source) -> None:
    _sources[source.name] = source


def register_groups(provider: Callable[[object], list[str]]) -> None:
    if provider not in _group_providers:
        _group_providers.append(provider)


def sources() -> dict[str, Source]:
    return dict(_sources)


def source(name: str) -> Source:
    return _sources[name]


def groups_for(user) -> list[str]:
    groups: list[str] = []
    for provider in _group_providers:
        for group in provider(user):
            if group not in groups:
                groups.append(group)
    return groups
