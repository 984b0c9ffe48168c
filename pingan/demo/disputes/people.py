"""People, places and receiving bodies of the demo disputes: a grid with the people who work
it, the parties a tale needs, and the bodies a dispute is routed to with their contacts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from stdnum.cn import ric, uscc

from pingan.accounts.models import User
from pingan.demo.county.geography import TOWNS
from pingan.demo.county.incident_texts import address_for
from pingan.disputes.models import (
    PartyKind,
    PartyRole,
    RouteBody,
    Vulnerability,
)
from pingan.disputes.services import PartyInput
from pingan.orgs.models import Grid

from .tales import (
    COMPANY_BRANDS,
    COMPANY_TRADES,
    OTHER_DEPARTMENTS,
    RURAL,
    SHOP_TRADES,
    URBAN,
    T,
    Tale,
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class Place:
    """A grid and the people who work it."""

    grid: Grid
    plan: object  # county.geography.GridPlan
    officer: User
    aux: User
    workers: list
    chief: User

    @property
    def town(self):
        return TOWNS[self.plan.town]

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def short_name(self) -> str:
        """The village or community as people name it: 大坑村, 东门社区, 城东工业园."""
        if self.kind == RURAL:
            return f"{self.plan.short}村"
        if self.kind == URBAN:
            short = f"{self.town.short}圩镇" if self.plan.short == "圩镇" else self.plan.short
            return f"{short}社区"
        return self.plan.short

    @property
    def committee(self) -> str:
        """大坑村村民委员会, 东门社区居民委员会, 城东工业园管理委员会."""
        suffix = {RURAL: "村民委员会", URBAN: "居民委员会"}.get(self.kind, "管理委员会")
        return f"{self.short_name}{suffix}"


class Cast:
    """The parties of a dispute: names from the demo's name stream, valid ID numbers for some,
    unique mobile numbers for most, and a few who asked to receive progress messages."""

    def __init__(self, rng: random.Random, names, today):
        self.rng = rng
        self.names = names
        self.today = today

    def person(
        self,
        place: Place,
        role: str,
        *,
        surname: str = "",
        age: tuple = (25, 64),
        vulnerability: str = "",
        with_id: float = 0.55,
        with_phone: float = 0.85,
        known: bool = False,
    ) -> PartyInput:
        """`known`: always recorded with an ID number, so repeats between them are found."""
        rng = self.rng
        name = self.names.person()
        if surname:
            name = surname + name[1:]
        id_number = self._id_number(rng.randint(*age)) if known or rng.random() < with_id else ""
        phone = self.names.phone() if rng.random() < with_phone else ""
        return PartyInput(
            name=name,
            kind=PartyKind.PERSON,
            role=role,
            id_number=id_number,
            phone=phone,
            address=address_for(place.grid.name, place.kind, rng),
            vulnerability=vulnerability,
            notify=bool(phone) and rng.random() < 0.06,
        )

    def organisation(self, role: str, name: str) -> PartyInput:
        rng = self.rng
        body = "91360827" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        return PartyInput(
            name=name,
            kind=PartyKind.ORGANISATION,
            role=role,
            id_number=body + uscc.calc_check_digit(body) if rng.random() < 0.6 else "",
            phone=self.names.phone() if rng.random() < 0.7 else "",
        )

    def _id_number(self, age: int) -> str:
        rng = self.rng
        born = self.today - timedelta(days=365.25 * age + rng.randint(0, 364))
        # The county's division code changed in 2000; older residents keep the old one.
        region = "360827" if born.year >= 2000 else "362427"
        body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
        return body + ric.calc_check_digit(body + "0")

    def company(self) -> str:
        brand = "".join(self.rng.sample(COMPANY_BRANDS, 2))
        return f"平安县{brand}{self.rng.choice(COMPANY_TRADES)}"

    def shop(self, place: Place) -> str:
        brand = "".join(self.rng.sample(COMPANY_BRANDS, 2))
        return f"{place.short_name}{brand}{self.rng.choice(SHOP_TRADES)}"

    def build(self, tale: Tale, place: Place) -> tuple[list[PartyInput], dict]:
        """The parties a tale needs, and the names its text refers to."""
        rng = self.rng
        A, B, K = PartyRole.APPLICANT, PartyRole.RESPONDENT, PartyRole.OTHER
        cast = tale.cast
        words = {"place": place.short_name}
        parties: list[PartyInput] = []
        if cast in ("pair", "couple", "kin"):
            a = self.person(place, A)
            b = self.person(place, B, surname=a.name[0] if cast == "kin" else "")
            parties = [a, b]
        elif cast in ("elder", "elder_pair"):
            age = rng.randint(72, 88)
            a = self.person(
                place,
                A,
                age=(age, age),
                vulnerability=Vulnerability.ELDERLY,
                with_id=0.8,
                with_phone=0.4,
            )
            words["age"] = str(age)
            if cast == "elder":
                sons = [self.person(place, B, surname=a.name[0], age=(40, 58)) for _ in range(2)]
                parties = [a, *sons]
                words["c"] = sons[1].name
                b = sons[0]
            else:
                b = self.person(place, B)
                parties = [a, b]
        elif cast in ("minor", "minor_firm"):
            a = self.person(place, A, age=(30, 45))
            kage = rng.randint(7, 15)
            k = self.person(
                place,
                K,
                surname=a.name[0],
                age=(kage, kage),
                vulnerability=Vulnerability.MINOR,
                with_id=0.5,
                with_phone=0.0,
            )
            words.update(k=k.name, kage=str(kage))
            if cast == "minor":
                b = self.person(place, B)
                parties = [a, k, b]
            else:
                words["o"] = f"{place.short_name}{''.join(rng.sample(COMPANY_BRANDS, 2))}托管班"
                parties = [a, k, self.organisation(B, words["o"])]
                b = None
        elif cast in ("firm", "shop"):
            a = self.person(place, A)
            words["o"] = self.company() if cast == "firm" else self.shop(place)
            parties = [a, self.organisation(B, words["o"])]
            b = None
        elif cast == "villagers":
            a = self.person(place, A)
            words["o"] = self.company()
            others = [self.person(place, A) for _ in range(2)]
            parties = [a, *others, self.organisation(B, words["o"])]
            b = None
        elif cast == "village_firm":
            words["o"] = self.company()
            committee = self.organisation(A, place.committee)
            a = committee
            parties = [committee, self.organisation(B, words["o"])]
            b = None
        elif cast in ("crew", "crew_village"):
            a = self.person(place, A)
            crew = [self.person(place, A) for _ in range(rng.randint(4, 6))]
            b = self.person(place, B)
            parties = [a, *crew, b]
            if cast == "crew":
                words["o"] = self.company()
                parties.append(self.organisation(B, words["o"]))
            words["n"] = str(len(crew) + 1 + rng.randint(3, 14))
        else:
            raise ValueError(f"unknown cast {cast}")
        words["a"] = a.name
        if b is not None:
            words["b"] = b.name
        return parties, words


class Bodies:
    """Receiving bodies by grid and kind, each with one steady contact person."""

    def __init__(self, rng: random.Random, names):
        self.rng = rng
        self.names = names
        self.contacts: dict[str, tuple[str, str]] = {}

    def name(self, place: Place, kind: str, type_: str) -> str:
        town = place.town
        if kind == RouteBody.VILLAGE_COMMITTEE:
            return place.committee
        if kind == RouteBody.GRID_STATION:
            return place.grid.org.name
        if kind == RouteBody.MEDIATION_COMMITTEE:
            if place.kind == RURAL and self.rng.random() < 0.5:
                return f"{place.short_name}人民调解委员会"
            return f"{town.name}人民调解委员会"
        if kind == RouteBody.SHARED_COURT:
            return f"{town.name}共享法庭"
        if kind == RouteBody.JUDICIAL_OFFICE:
            return f"{town.short}司法所"
        if kind == RouteBody.LABOUR:
            return "县人社局劳动保障监察大队"
        if kind == RouteBody.MARKET:
            return f"县市场监管局{town.short}市场监管所"
        if kind == RouteBody.HOUSING:
            if type_ == T.LAND_HOUSING and place.kind == RURAL:
                return f"县自然资源局{town.short}自然资源所"
            return "县住建局"
        return self.rng.choice(OTHER_DEPARTMENTS.get(type_, ("县信访局",)))

    def contact(self, place: Place, kind: str, body: str) -> tuple[str, str]:
        if kind == RouteBody.GRID_STATION:
            return place.officer.display_name, place.officer.phone
        if body not in self.contacts:
            self.contacts[body] = (self.names.person(), self.names.phone())
        return self.contacts[body]

    @staticmethod
    def room(kind: str, body: str) -> str:
        """Where a mediation session sits."""
        if kind == RouteBody.SHARED_COURT:
            return f"{body}（线上连线法官）"
        if kind in (RouteBody.HOUSING, RouteBody.OTHER_DEPARTMENT, RouteBody.LABOUR):
            return f"{body}会议室"
        return f"{body}调解室"
