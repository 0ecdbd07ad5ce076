"""Volunteer indicators for the planning dashboards, per community and rolled up the
region tree: registered volunteers, residents, volunteers as a share of residents,
hours in a month and active volunteers in it.

Four aggregate queries over the region's subtree (a region's code prefix is its
subtree) give the figures of every community at once; the roll-up adds communities
into the region's children by code prefix. Nothing loops over volunteers.

- registered volunteers: verified now, and verified by the end of the month (a
  volunteer without a verification time counts);
- residents: on the register now, not anonymized (the register has no history of
  who lived where when);
- hours: earning transfers (activity and request hours) booked in the month, net of
  their reversals, which count in the month of the booking they correct, so a
  month's figure is what still stands of it; a volunteer's hours count in their
  community (hours above the balance cap count too);
- active volunteers: those with more than zero such hours in the month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.codes import PREFIX_LENGTH
from linli.regions.models import Region
from linli.residents.models import Resident

from .choices import EARNING_KINDS, AccountKind, TransferKind, VolunteerStatus
from .ledger import hours
from .models import Movement, Volunteer

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        """Midnight of the first day, in the deployment's time zone."""
        return timezone.make_aware(dt.datetime(self.year, self.month, 1))

    @property
    def end(self) -> dt.datetime:
        """Midnight of the first day of the next month (excluded)."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return timezone.make_aware(dt.datetime(year, month, 1))

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @classmethod
    def current(cls) -> Month:
        today = timezone.localdate()
        return cls(today.year, today.month)


def parse_month(text: str | None) -> Month:
    """YYYY-MM, not after the current month; empty means the current month."""
    if not text:
        return Month.current()
    found = MONTH_PATTERN.match(text.strip())
    if found is None:
        raise ValidationFailed(fields={"month": [_("Give the month as YYYY-MM, e.g. 2025-03.")]})
    month = Month(int(found.group(1)), int(found.group(2)))
    if not 1 <= month.month <= 12 or month.year < 2000:
        raise ValidationFailed(fields={"month": [_("There is no such month.")]})
    now = Month.current()
    if (month.year, month.month) > (now.year, now.month):
        raise ValidationFailed(fields={"month": [_("This month has not come yet.")]})
    return month


@dataclass
class Counts:
    """The indicators of one community, or the sum of several."""

    volunteers: int = 0
    residents: int = 0
    hours: Decimal = field(default_factory=lambda: Decimal("0.00"))
    active: int = 0

    @property
    def share(self) -> Decimal | None:
        """Registered volunteers per resident (0.0525 is 5.25%); None without residents."""
        if not self.residents:
            return None
        return (Decimal(self.volunteers) / Decimal(self.residents)).quantize(
            SHARE_PLACES, rounding=ROUND_HALF_UP
        )

    @property
    def share_percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(Decimal("0.01"))

    def add(self, other: Counts) -> None:
        self.volunteers += other.volunteers
        self.residents += other.residents
        self.hours += other.hours
        self.active += other.active


@dataclass
class Figures(Counts):
    """The indicators of a region: the sum of its communities."""

    region: Region | None = None


@dataclass
class Indicators:
    """A region's figures and those of its children (for drill-down), for one month."""

    region: Region
    month: Month
    totals: Figures
    children: list[Figures]


def _month_q(month: Month) -> Q:
    """Issuance movements of earning transfers booked in the month, and of reversals of
    those (whenever the reversal was booked)."""
    booked = Q(
        transfer__kind__in=EARNING_KINDS,
        transfer__created_at__gte=month.start,
        transfer__created_at__lt=month.end,
    )
    corrected = Q(
        transfer__kind=TransferKind.REVERSAL,
        transfer__reverses__kind__in=EARNING_KINDS,
        transfer__reverses__created_at__gte=month.start,
        transfer__reverses__created_at__lt=month.end,
    )
    return Q(account__kind=AccountKind.ISSUANCE) & (booked | corrected)


def community_figures(prefix: str, month: Month) -> dict[str, Counts]:
    """{community code: its counts} for every community under `prefix` that has any of
    them: four aggregate queries."""
    figures: dict[str, Counts] = {}

    def put(code: str, key: str, value: int | Decimal) -> None:
        setattr(figures.setdefault(code, Counts()), key, value)

    registered = (
        Volunteer.objects.filter(
            Q(verified_at__isnull=True) | Q(verified_at__lt=month.end),
            status=VolunteerStatus.VERIFIED,
            community__code__startswith=prefix,
        )
        .values("community")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("community", "n")
    )
    for code, n in registered:
        put(code, "volunteers", n)
    residents = (
        Resident.objects.filter(anonymized_at__isnull=True, community__code__startswith=prefix)
        .values("community")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("community", "n")
    )
    for code, n in residents:
        put(code, "residents", n)
    in_month = Movement.objects.filter(
        _month_q(month), transfer__earned_by__volunteer__community__code__startswith=prefix
    )
    earned = (
        in_month.values("transfer__earned_by__volunteer__community")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("transfer__earned_by__volunteer__community", "total")
    )
    for code, total in earned:
        put(code, "hours", -hours(total or 0))
    # Who earned more than nothing in the month (a credit fully reversed is not active).
    earners = (
        in_month.values("transfer__earned_by")
        .annotate(net=Sum("amount"))
        .filter(net__lt=0)
        .order_by()
        .values("transfer__earned_by")
    )
    active = (
        Volunteer.objects.filter(community__code__startswith=prefix, user_id__in=earners)
        .values("community")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("community", "n")
    )
    for code, n in active:
        put(code, "active", n)
    return figures


def volunteer_indicators(*, region: Region, month: Month) -> Indicators:
    """The region's indicators for the month, with one row per child region (a
    county's streets, a street's communities); a community has no children."""
    by_community = community_figures(region.prefix, month)
    totals = Figures(region=region)
    for counts in by_community.values():
        totals.add(counts)
    children: list[Figures] = []
    if region.level != RegionLevel.COMMUNITY:
        kids = list(Region.objects.filter(parent=region).order_by("code"))
        rows = {kid.code: Figures(region=kid) for kid in kids}
        if kids:
            # Every child is one level down: the same prefix length for all of them.
            length = PREFIX_LENGTH[RegionLevel(kids[0].level)]
            by_prefix = {kid.prefix: rows[kid.code] for kid in kids}
            for code, counts in by_community.items():
                row = by_prefix.get(code[:length])
                if row is not None:
                    row.add(counts)
        children = [rows[kid.code] for kid in kids]
    return Indicators(region=region, month=month, totals=totals, children=children)
