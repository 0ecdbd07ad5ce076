"""Community scorecards and a provider's scores, on numpy arrays.

A community's scorecard has four parts, each a share between 0 and 1 shown with the
counts behind it, and a composite:

- **coverage**: of the top-level domains of the service taxonomy (elderly care, child
  care, …), the share the community has at least one way to be served in, on the
  period's last day: an active directory service of that domain at a facility open in
  the community, or an active responder with a skill in that domain based in the
  community, its street or its district (those serve the community). It is what the
  data can support honestly: Linli knows where services are offered and who delivers,
  not how far a responder will travel. Service and responder status have no history,
  so past months use today's status (facility opening and closing dates and responder
  creation dates do have one). Whether a comprehensive service facility is open is
  shown beside it, not counted (it is one facility kind, not a share).
- **timeliness**: of the requests due in the period (their ``due_at``, set from the
  service level at triage, falls in it and has passed; cancelled and rejected ones left
  out), the share completed by their due time. Counting by due time, not completion,
  keeps overdue requests that are still open in the count, so a community cannot look
  punctual by never finishing.
- **satisfaction**: ``(quality − 1) / 4`` of the community's satisfaction index
  (indices.py, kind "community"): the smoothed mean less the complaint penalty, put on
  0–1.
- **needs met**: the community index's needs met (yes 1, partly ½, no 0).

``composite = Σ wᵢ · partᵢ / Σ wᵢ`` over the parts that have a figure (weights from
``LINLI_SCORECARD_WEIGHTS``); a part with no figure is left out and the other weights
renormalised, and the page shows the weights used.

Indices are computed for whole districts, whatever region is asked for: the prior of
the shrinkage (a service's mean) is then the district's, the same for every community
ranked against each other, and a street official and a district official read the same
figures for the same community. Communities are ranked by composite within their street
and within their district (1 = best, ties share a rank, no composite no rank).

Privacy: a rating figure over fewer than ``LINLI_SCORE_PRIVACY_MIN_N`` ratings is not
published (a priority group of one person would tell that person's rating), and a part
hidden so is also left out of the composite, which would otherwise give it away.
Counts are always shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
from django.conf import settings
from django.db.models import BooleanField, Case, F, Field, Func, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.selectors import user_scope
from linli.core.errors import NotFound, ValidationFailed
from linli.directory.choices import FacilityKind, LinkEntity, ServiceStatus
from linli.directory.models import Attribute, Location, ServiceAtLocation, TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid
from linli.regions.choices import RegionLevel
from linli.regions.codes import MalformedCode, prefix_of
from linli.regions.models import Region
from linli.requests.choices import ResponderStatus, State
from linli.requests.models import Responder, ServiceRequest

from . import indices, scores
from .indices import IndexRow
from .models import Complaint, Evaluation

PARTS = ("coverage", "timeliness", "satisfaction", "needs_met")
PART_LABELS = {
    "coverage": gettext_lazy("Coverage"),
    "timeliness": gettext_lazy("Timeliness"),
    "satisfaction": gettext_lazy("Satisfaction"),
    "needs_met": gettext_lazy("Needs met"),
}
BEST_COUNT = 3  # responders recognised on a scorecard
TREND_MONTHS = 12
DISTRICT_DIGITS = 6
STREET_DIGITS = 9
NOT_DONE = (State.CANCELLED, State.REJECTED)


# --- Settings --------------------------------------------------------------------------------


def part_weights() -> dict[str, float]:
    """Each part's weight in the composite (LINLI_SCORECARD_WEIGHTS); a part not named weighs 0."""
    configured = dict(settings.LINLI_SCORECARD_WEIGHTS)
    unknown = set(configured) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown scorecard parts in LINLI_SCORECARD_WEIGHTS: {sorted(unknown)}")
    weights = {part: float(configured.get(part, 0.0)) for part in PARTS}
    if any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise ValueError("scorecard weights must be non-negative and not all zero")
    return weights


def privacy_min() -> int:
    """The fewest ratings behind a published rating figure (LINLI_SCORE_PRIVACY_MIN_N)."""
    return max(1, int(settings.LINLI_SCORE_PRIVACY_MIN_N))


def best_min_n() -> int:
    """Ratings in the community a responder needs to be named among its best."""
    return max(privacy_min(), int(settings.LINLI_SCORECARD_BEST_MIN_N))


# --- Periods ---------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Half-open [start, end) in local days; `code` is what the address carries."""

    start: dt.date
    end: dt.date
    code: str

    @property
    def label(self) -> str:
        if not self.code:
            return _("the last 12 months")
        return self.code

    def months(self) -> list[dt.date]:
        """The first days of the 12 months ending with the period's last month (the trend)."""
        last = add_months(self.end - dt.timedelta(days=1), 0)
        return [add_months(last, k) for k in range(-(TREND_MONTHS - 1), 1)]


def parse_period(text: str | None, *, today: dt.date | None = None) -> Period:
    """ "" → the last 12 months (this one included); "2026" → a year; "2026-05" → a month."""
    today = today or timezone.localdate()
    text = (text or "").strip()
    if not text:
        this_month = today.replace(day=1)
        return Period(add_months(this_month, -(TREND_MONTHS - 1)), add_months(this_month, 1), "")
    year_text, _sep, month_text = text.partition("-")
    try:
        year = int(year_text) if len(year_text) == 4 else -1
        month = int(month_text) if month_text else 0
    except ValueError:
        year = -1
    if not 2000 <= year <= 2100 or not 0 <= month <= 12 or (month_text and not month):
        raise ValidationFailed(
            fields={"period": [_("Give a year (2026) or a month (2026-05), or nothing.")]}
        )
    if month:
        start = dt.date(year, month, 1)
        return Period(start, add_months(start, 1), f"{year:04d}-{month:02d}")
    return Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), f"{year:04d}")


def _seconds(day: dt.date) -> float:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min)).timestamp()


def _stamps(values: Any, count: int) -> np.ndarray:
    return np.fromiter((np.nan if v is None else v for v in values), dtype=np.float64, count=count)


class Epoch(Func):
    """Seconds since 1970 (UTC) of a datetime column, computed by the database: parsing a
    million timestamps into Python datetimes costs more than all the arithmetic after."""

    # A plain Field: the database already returns floats, and a FloatField would add a
    # per-row float() converter (a second per row over a million rows).
    output_field = Field()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps UTC text; julianday keeps the fraction of a second.
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )


# --- Results ---------------------------------------------------------------------------------


class PartFigure(TypedDict):
    part: str
    value: float | None  # 0–1, None when there is no figure or it is hidden
    numerator: float | None
    denominator: float | None
    n: int  # ratings or requests behind the figure
    hidden: bool  # too few ratings to publish
    weight: float  # configured weight
    used_weight: float  # share of the composite after renormalising, 0 when left out


class TrendPoint(TypedDict):
    month: dt.date
    composite: float | None
    parts: dict[str, float | None]
    n: int  # ratings in the month


class BestResponder(TypedDict):
    responder_id: int
    name: str
    n: int
    quality: float
    satisfied_share: float | None


class GroupFigure(TypedDict):
    group: str
    n: int
    hidden: bool
    quality: float | None
    satisfied_share: float | None
    satisfied_lower: float | None
    needs_met: float | None


@dataclass
class Scorecard:
    code: str
    name: str
    street_code: str
    street_name: str
    district_code: str
    district_name: str
    parts: dict[str, PartFigure]
    composite: float | None
    index: IndexRow | None  # the community's satisfaction index over the period
    comprehensive_facility: bool
    domains_covered: list[str]
    domains_missing: list[str]
    rank_street: int | None = None
    ranked_in_street: int = 0
    rank_district: int | None = None
    ranked_in_district: int = 0
    trend: list[TrendPoint] = field(default_factory=list)
    best: list[BestResponder] = field(default_factory=list)
    groups: list[GroupFigure] = field(default_factory=list)


@dataclass
class Scorecards:
    region_code: str
    period: Period
    months: list[dt.date]
    weights: dict[str, float]
    privacy_min: int
    best_min_n: int
    cards: list[Scorecard]

    def card(self, code: str) -> Scorecard | None:
        return next((c for c in self.cards if c.code == code), None)

    def within(self, codes: Any) -> list[Scorecard]:
        return [c for c in self.cards if c.code in codes]


# --- Pure arithmetic -------------------------------------------------------------------------


def composite(values: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Σ w·part / Σ w over the parts with a figure; None when no weighted part has one."""
    used = {p: weights[p] for p, v in values.items() if v is not None and weights.get(p, 0) > 0}
    total = sum(used.values())
    if total <= 0:
        return None
    return sum(weights[p] * float(values[p] or 0.0) for p in used) / total


def used_weights(values: dict[str, float | None], weights: dict[str, float]) -> dict[str, float]:
    used = {p: weights[p] for p, v in values.items() if v is not None and weights.get(p, 0) > 0}
    total = sum(used.values())
    return {p: (used[p] / total if p in used and total else 0.0) for p in values}


def competition_ranks(values: list[float | None]) -> list[int | None]:
    """1 = highest; equal values share a rank ("1, 2, 2, 4"); None stays unranked."""
    keyed = [round(v, 9) for v in values if v is not None]
    ranks: list[int | None] = []
    for v in values:
        ranks.append(None if v is None else 1 + sum(1 for k in keyed if k > round(v, 9)))
    return ranks


def satisfaction_part(quality: float | None) -> float | None:
    """Quality (1–5) on 0–1."""
    return None if quality is None else (quality - 1.0) / 4.0


# --- Loading ---------------------------------------------------------------------------------


def load_prefix(region_code: str) -> str:
    """The code prefix loaded for a region: whole districts, so priors and ranks are whole."""
    if not region_code:
        return ""
    # A full 12-digit code or already a prefix ("330106").
    try:
        prefix = prefix_of(region_code) if len(region_code) == 12 else region_code
    except MalformedCode:
        return region_code  # matches nothing: no such region
    return prefix[:DISTRICT_DIGITS] if len(prefix) >= DISTRICT_DIGITS else prefix


@dataclass
class _Data:
    communities: list[tuple[str, str, str]]  # code, name, street code
    names: dict[str, str]
    # evaluations
    e_community: np.ndarray
    e_labels: list[Any]
    e_responder: np.ndarray
    r_labels: list[Any]
    e_service: np.ndarray
    e_overall: np.ndarray
    e_need: np.ndarray
    e_group: np.ndarray
    e_time: np.ndarray
    # complaints: community code index (into e_labels, -1 if unrated), responder id, time
    c_community: list[Any]
    c_responder: list[Any]
    c_time: np.ndarray
    # requests due
    q_community: np.ndarray  # index into communities
    q_due: np.ndarray
    q_on_time: np.ndarray
    # coverage
    domains: list[tuple[str, str]]  # root term id (str), name
    offers: list[tuple[str, str, dt.date | None, dt.date | None]]  # community, domain, open, close
    reach: list[tuple[str, str, float]]  # region code, domain, created (s)
    comprehensive: list[tuple[str, dt.date | None, dt.date | None]]


def _load(prefix: str, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> _Data:
    in_region = Q(code__startswith=prefix) if prefix else Q()
    communities = list(
        Region.objects.filter(in_region, level=RegionLevel.COMMUNITY)
        .order_by("code")
        .values_list("code", "name", "name_en", "parent_id")
    )
    english = _is_english()
    uppers = {c[3] for c in communities if c[3]} | {
        c[0][:DISTRICT_DIGITS] + "000000" for c in communities
    }
    names = {
        code: (name_en if english and name_en else name)
        for code, name, name_en in Region.objects.filter(code__in=uppers).values_list(
            "code", "name", "name_en"
        )
    }
    for code, name, name_en, _parent in communities:
        names[code] = name_en if english and name_en else name

    where = Q(created_at__gte=start, created_at__lt=end)
    if prefix:
        where &= Q(community__code__startswith=prefix)
    rows = list(
        Evaluation.objects.filter(where)
        .order_by()
        .values_list(
            "community_id",
            "responder_id",
            "service_id",
            "overall",
            "need_met",
            "priority_group",
            Epoch("created_at"),
        )
    )
    count = len(rows)
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 7
    del rows
    e_community, e_labels = indices.factorize(cols[0], count)
    e_responder, r_labels = indices.factorize(cols[1], count)
    e_service, _service_labels = indices.factorize(cols[2], count)

    complaint_rows = list(
        Complaint.objects.filter(where)
        .annotate(target=indices.COMPLAINT_KEYS["responder"])
        .order_by()
        .values_list("community_id", "target", Epoch("created_at"))
    )
    due_until = min(end, now)
    due = list(
        ServiceRequest.objects.filter(
            (Q(community__code__startswith=prefix) if prefix else Q()),
            due_at__gte=start,
            due_at__lt=due_until,
        )
        .exclude(state__in=NOT_DONE)
        .order_by()
        .annotate(
            on_time=Case(
                When(completed_at__lte=F("due_at"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values_list("community_id", Epoch("due_at"), "on_time")
    )
    position = {c[0]: i for i, c in enumerate(communities)}
    return _Data(
        communities=[(c[0], names[c[0]], c[3] or "") for c in communities],
        names=names,
        e_community=e_community,
        e_labels=e_labels,
        e_responder=e_responder,
        r_labels=r_labels,
        e_service=e_service,
        e_overall=np.fromiter(cols[3], dtype=np.float64, count=count),
        e_need=scores.need_met_scores(np.array(cols[4], dtype=object)),
        e_group=np.array(cols[5], dtype=object).astype(str),
        e_time=_stamps(cols[6], count),
        c_community=[r[0] for r in complaint_rows],
        c_responder=[r[1] for r in complaint_rows],
        c_time=_stamps((r[2] for r in complaint_rows), len(complaint_rows)),
        q_community=np.fromiter(
            (position.get(r[0], -1) for r in due), dtype=np.int64, count=len(due)
        ),
        q_due=_stamps((r[1] for r in due), len(due)),
        q_on_time=np.fromiter((bool(r[2]) for r in due), dtype=bool, count=len(due)),
        **_load_coverage(prefix, communities),
    )


def _is_english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


def _load_coverage(prefix: str, communities: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Domains, what facilities offer, what responders can do: five small queries."""
    english = _is_english()
    terms = list(
        TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY))
        .order_by("code")
        .values_list("id", "parent_id", "name", "name_en")
    )
    parent = {str(t[0]): (str(t[1]) if t[1] else None) for t in terms}

    def root(term: str) -> str:
        seen = 0
        while parent.get(term) and seen < 10:
            term, seen = parent[term] or term, seen + 1
        return term

    domain_of = {term: root(term) for term in parent}
    domains = [(str(t[0]), (t[3] if english and t[3] else t[2])) for t in terms if not t[1]]
    located = Q(location__region__code__startswith=prefix) if prefix else Q()
    offered = list(
        ServiceAtLocation.objects.filter(located, service__status=ServiceStatus.ACTIVE)
        .exclude(location__region=None)
        .order_by()
        .values_list(
            "location__region_id", "service_id", "location__opened_on", "location__closed_on"
        )
    )
    categories: dict[str, set[str]] = defaultdict(set)
    for link_id, term_id in Attribute.objects.filter(
        link_entity=LinkEntity.SERVICE, link_id__in={o[1] for o in offered}
    ).values_list("link_id", "taxonomy_term_id"):
        if str(term_id) in domain_of:
            categories[str(link_id)].add(domain_of[str(term_id)])
    offers = [
        (region, domain, opened, closed)
        for region, service, opened, closed in offered
        for domain in categories.get(str(service), ())
    ]
    uppers = {c[3] for c in communities if c[3]} | {
        c[0][:DISTRICT_DIGITS] + "000000" for c in communities
    }
    reach = [
        (region, domain_of[str(skill)], created.timestamp())
        for region, skill, created in Responder.objects.filter(
            status=ResponderStatus.ACTIVE,
            region_id__in=uppers | {c[0] for c in communities},
        )
        .exclude(skills=None)
        .order_by()
        .values_list("region_id", "skills", "created_at")
        if str(skill) in domain_of
    ]
    comprehensive = list(
        Location.objects.filter(
            (Q(region__code__startswith=prefix) if prefix else Q()),
            kind=FacilityKind.COMPREHENSIVE,
        )
        .order_by()
        .values_list("region_id", "opened_on", "closed_on")
    )
    return {"domains": domains, "offers": offers, "reach": reach, "comprehensive": comprehensive}


def _open_on(day: dt.date, opened: dt.date | None, closed: dt.date | None) -> bool:
    return (opened is None or opened <= day) and (closed is None or closed > day)


# --- Computing -------------------------------------------------------------------------------


@dataclass
class _Slice:
    """The four parts of every community over one period (arrays follow `communities`)."""

    coverage_num: np.ndarray
    coverage_den: int
    covered: list[set[str]]
    due: np.ndarray
    on_time: np.ndarray
    rows: dict[str, IndexRow]  # community code → index row
    groups: dict[str, dict[str, IndexRow]]  # group → community code → row
    pairs: dict[tuple[str, Any], IndexRow]  # (community, responder) → row
    rated: np.ndarray  # ratings per community


def _coverage(data: _Data, last_day: dt.date) -> tuple[list[set[str]], np.ndarray]:
    last_seconds = _seconds(last_day + dt.timedelta(days=1))
    here: dict[str, set[str]] = defaultdict(set)
    for region, domain, opened, closed in data.offers:
        if _open_on(last_day, opened, closed):
            here[region].add(domain)
    for region, domain, created in data.reach:
        if created < last_seconds:
            here[region].add(domain)
    covered = [
        here[code] | here[street] | here[code[:DISTRICT_DIGITS] + "000000"]
        for code, _name, street in data.communities
    ]
    return covered, np.array([len(c) for c in covered], dtype=np.int64)


def _districts(data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """District prefixes of the evaluations and complaints, worked out once per load."""
    cached = data.__dict__.get("_districts")
    if cached is None:
        labels = data.e_labels
        district_of = np.array(
            [str(code)[:DISTRICT_DIGITS] for code in labels] + [""], dtype=object
        )
        cached = (
            district_of,
            district_of[data.e_community],
            np.array(data.c_community, dtype=object),
            np.array([str(c)[:DISTRICT_DIGITS] for c in data.c_community], dtype=object),
        )
        data.__dict__["_districts"] = cached
    return cached


def _index_slice(
    data: _Data, mask: np.ndarray, c_mask: np.ndarray, pair_least: int, start: Any, end: Any
) -> tuple[dict[str, IndexRow], dict[str, dict[str, IndexRow]], dict[tuple[str, Any], IndexRow]]:
    """Community (and community × responder) indices of the evaluations under `mask`,
    one district at a time so each district's service means are its priors.

    Only pairs with at least `pair_least` ratings get rows (0: no pairs): the others can
    never be named among the best, and a city has hundreds of thousands of them. Their
    ratings still count in the service means.
    """
    weight = indices.prior_weight()
    rows: dict[str, IndexRow] = {}
    groups: dict[str, dict[str, IndexRow]] = defaultdict(dict)
    pairs: dict[tuple[str, Any], IndexRow] = {}
    labels = data.e_labels
    district_of, e_district, c_codes, c_district = _districts(data)
    for district in sorted(set(district_of[:-1].tolist())):
        here = mask & (e_district == district)
        if not here.any():
            continue
        keys: dict[str, np.ndarray] = {"community": data.e_community[here]}
        key_labels: dict[str, list[Any]] = {"community": labels}
        if pair_least:
            n_resp = max(1, len(data.r_labels))
            pair = np.where(
                data.e_responder[here] >= 0,
                data.e_community[here] * n_resp + data.e_responder[here],
                -1,
            )
            unique, counts = np.unique(pair[pair >= 0], return_counts=True)
            unique = unique[counts >= pair_least]
            found_at = np.searchsorted(unique, pair)
            known_pair = (pair >= 0) & (found_at < len(unique))
            known_pair[known_pair] = unique[found_at[known_pair]] == pair[known_pair]
            keys["pair"] = np.where(known_pair, found_at, -1)
            key_labels["pair"] = [
                (labels[int(u) // n_resp], data.r_labels[int(u) % n_resp]) for u in unique
            ]
        columns = indices.Columns(
            keys=keys,
            labels=key_labels,
            service=data.e_service[here],
            overall=data.e_overall[here],
            need=data.e_need[here],
            group=data.e_group[here],
        )
        in_district = c_mask & (c_district == district)
        complained: dict[Any, int] = defaultdict(int)
        pair_complaints: dict[Any, int] = defaultdict(int)
        for i in np.flatnonzero(in_district).tolist():
            complained[c_codes[i]] += 1
            if data.c_responder[i] is not None:
                pair_complaints[(c_codes[i], data.c_responder[i])] += 1
        found = indices.indices_from_columns(
            "community",
            columns,
            complaints=dict(complained),
            weight=weight,
            start=start,
            end=end,
            region_code=district,
        )
        rows.update({r["key"]: r for r in found.rows})
        for group, group_rows in found.priority_groups.items():
            groups[group].update({r["key"]: r for r in group_rows})
        if pair_least:
            known = set(key_labels["pair"])
            found_pairs = indices.indices_from_columns(
                "pair",
                columns,
                complaints={k: v for k, v in pair_complaints.items() if k in known},
                weight=weight,
                start=start,
                end=end,
                region_code=district,
            )
            pairs.update({r["key"]: r for r in found_pairs.rows})
    return rows, dict(groups), pairs


def _slice(data: _Data, start: dt.date, end: dt.date, now: dt.datetime, pair_least: int) -> _Slice:
    s, e = _seconds(start), _seconds(end)
    mask = (data.e_time >= s) & (data.e_time < e)
    c_mask = (data.c_time >= s) & (data.c_time < e)
    rows, groups, pairs = _index_slice(data, mask, c_mask, pair_least, start, end)
    size = len(data.communities)
    q_mask = (data.q_due >= s) & (data.q_due < min(e, now.timestamp())) & (data.q_community >= 0)
    due = np.bincount(data.q_community[q_mask], minlength=size)
    on_time = np.bincount(data.q_community[q_mask & data.q_on_time], minlength=size)
    last_day = min(end - dt.timedelta(days=1), timezone.localdate(now))
    covered, covered_count = _coverage(data, last_day)
    return _Slice(
        coverage_num=covered_count,
        coverage_den=len(data.domains),
        covered=covered,
        due=due,
        on_time=on_time,
        rows=rows,
        groups=groups,
        pairs=pairs,
        rated=np.array([int(rows[c[0]]["n"]) if c[0] in rows else 0 for c in data.communities]),
    )


def _parts(
    sl: _Slice, i: int, code: str, weights: dict[str, float], least: int
) -> dict[str, PartFigure]:
    row = sl.rows.get(code)
    n = int(row["n"]) if row else 0
    needs_n = int(row["needs_n"]) if row else 0
    quality = row["quality"] if row else None
    needs = row["needs_met"] if row else None
    hide_rating = 0 < n < least
    hide_needs = 0 < needs_n < least
    figures: dict[str, tuple[float | None, float | None, float | None, int, bool]] = {
        "coverage": (
            float(sl.coverage_num[i]) / sl.coverage_den if sl.coverage_den else None,
            float(sl.coverage_num[i]),
            float(sl.coverage_den),
            sl.coverage_den,
            False,
        ),
        "timeliness": (
            float(sl.on_time[i]) / float(sl.due[i]) if sl.due[i] else None,
            float(sl.on_time[i]),
            float(sl.due[i]),
            int(sl.due[i]),
            False,
        ),
        "satisfaction": (
            None if hide_rating else satisfaction_part(quality),
            None if hide_rating or quality is None else quality - 1.0,
            4.0,
            n,
            hide_rating,
        ),
        "needs_met": (
            None if hide_needs else needs,
            None if hide_needs or needs is None else needs * needs_n,
            float(needs_n),
            needs_n,
            hide_needs,
        ),
    }
    values = {p: f[0] for p, f in figures.items()}
    shares = used_weights(values, weights)
    return {
        p: PartFigure(
            part=p,
            value=f[0],
            numerator=f[1],
            denominator=f[2],
            n=f[3],
            hidden=f[4],
            weight=weights[p],
            used_weight=shares[p],
        )
        for p, f in figures.items()
    }


def compute_scorecards(
    *, region_code: str, period: Period, now: dt.datetime | None = None
) -> Scorecards:
    """Scorecards of every community in the districts `region_code` touches, with ranks
    in street and district, a 12-month trend, best responders and priority groups.

    Ten queries whatever the size; the rest is numpy on the loaded columns.
    """
    now = now or timezone.now()
    weights = part_weights()
    least = privacy_min()
    best_least = best_min_n()
    prefix = load_prefix(region_code)
    months = period.months()
    first = min(period.start, months[0])
    last = max(period.end, add_months(months[-1], 1))
    data = _load(prefix, _moment(first), _moment(last), now)
    head = _slice(data, period.start, period.end, now, pair_least=best_least)
    trend = [_slice(data, m, add_months(m, 1), now, pair_least=0) for m in months]

    cards: list[Scorecard] = []
    domain_names = dict(data.domains)
    for i, (code, name, street) in enumerate(data.communities):
        parts = _parts(head, i, code, weights, least)
        cards.append(
            Scorecard(
                code=code,
                name=name,
                street_code=street,
                street_name=data.names.get(street, street),
                district_code=code[:DISTRICT_DIGITS] + "000000",
                district_name=data.names.get(code[:DISTRICT_DIGITS] + "000000", ""),
                parts=parts,
                composite=composite({p: f["value"] for p, f in parts.items()}, weights),
                index=head.rows.get(code),
                comprehensive_facility=any(
                    region == code
                    and _open_on(
                        min(period.end - dt.timedelta(days=1), timezone.localdate(now)), o, c
                    )
                    for region, o, c in data.comprehensive
                ),
                domains_covered=[domain_names[d] for d, _n in data.domains if d in head.covered[i]],
                domains_missing=[
                    domain_names[d] for d, _n in data.domains if d not in head.covered[i]
                ],
                trend=[
                    _trend_point(sl, i, code, month, weights, least, counted=_counted(parts))
                    for sl, month in zip(trend, months, strict=True)
                ],
                groups=_groups(head, code, least),
            )
        )
    _rank(cards)
    _best(cards, head, best_least)
    return Scorecards(
        region_code=region_code,
        period=period,
        months=months,
        weights=weights,
        privacy_min=least,
        best_min_n=best_least,
        cards=cards,
    )


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _counted(parts: dict[str, PartFigure]) -> set[str]:
    return {p for p, f in parts.items() if f["value"] is not None}


def _trend_point(
    sl: _Slice,
    i: int,
    code: str,
    month: dt.date,
    weights: dict[str, float],
    least: int,
    *,
    counted: set[str],
) -> TrendPoint:
    """One month of the trend. Its composite is given only when the month has a figure
    for every part the period's composite counts: a month whose ratings are too few to
    publish would otherwise be scored on coverage and timeliness alone and read as a
    jump, not as a gap."""
    parts = _parts(sl, i, code, weights, least)
    values = {p: f["value"] for p, f in parts.items()}
    comparable = all(values.get(p) is not None for p in counted)
    return TrendPoint(
        month=month,
        composite=composite(values, weights) if comparable else None,
        parts=values,
        n=int(sl.rated[i]),
    )


def _groups(sl: _Slice, code: str, least: int) -> list[GroupFigure]:
    out: list[GroupFigure] = []
    for group in sorted(sl.groups):
        row = sl.groups[group].get(code)
        if row is None or not row["n"]:
            continue
        hidden = row["n"] < least
        out.append(
            GroupFigure(
                group=group,
                n=int(row["n"]),
                hidden=hidden,
                quality=None if hidden else row["quality"],
                satisfied_share=None if hidden else row["satisfied_share"],
                satisfied_lower=None if hidden else row["satisfied_lower"],
                needs_met=None if hidden or row["needs_n"] < least else row["needs_met"],
            )
        )
    return out


def _rank(cards: list[Scorecard]) -> None:
    for attribute, key in (
        ("street", lambda c: c.street_code),
        ("district", lambda c: c.district_code),
    ):
        by: dict[str, list[Scorecard]] = defaultdict(list)
        for card in cards:
            by[key(card)].append(card)
        for members in by.values():
            ranks = competition_ranks([c.composite for c in members])
            ranked = sum(1 for r in ranks if r is not None)
            for card, rank in zip(members, ranks, strict=True):
                setattr(card, f"rank_{attribute}", rank)
                setattr(card, f"ranked_in_{attribute}", ranked)


def _best(cards: list[Scorecard], head: _Slice, least: int) -> None:
    """Top responders by quality within each community, with at least `least` ratings."""
    chosen: dict[str, list[IndexRow]] = defaultdict(list)
    for (code, _responder), row in head.pairs.items():
        if row["n"] >= least and row["quality"] is not None:
            chosen[code].append(row)
    ids: set[int] = set()
    for code, rows in chosen.items():
        rows.sort(key=lambda r: (-(r["quality"] or 0.0), -r["n"], r["key"][1]))
        chosen[code] = rows[:BEST_COUNT]
        ids |= {int(r["key"][1]) for r in chosen[code]}
    names = dict(Responder.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}
    for card in cards:
        card.best = [
            BestResponder(
                responder_id=int(r["key"][1]),
                name=names.get(int(r["key"][1]), ""),
                n=int(r["n"]),
                quality=float(r["quality"] or 0.0),
                satisfied_share=r["satisfied_share"],
            )
            for r in chosen.get(card.code, [])
        ]


# --- A provider's scores ---------------------------------------------------------------------


class Formula(TypedDict):
    n: int
    total: float  # sum of the overall ratings
    mean: float
    prior: float
    weight: float  # m
    smoothed: float
    complaints: int
    rate: float
    penalty: float
    deduction: float
    quality: float
    floored: bool


@dataclass
class ServiceScore:
    service_id: Any
    name: str
    row: IndexRow
    hidden: bool


@dataclass
class ProviderScores:
    organization_id: Any
    start: dt.date
    end: dt.date
    privacy_min: int
    row: IndexRow | None
    hidden: bool
    formula: Formula | None
    services: list[ServiceScore]
    groups: list[tuple[str, IndexRow, bool]]  # group, row, hidden


def provider_scores(*, organization_id: Any, start: dt.date, end: dt.date) -> ProviderScores:
    """A provider's index, per service and per priority group, against city-wide priors.

    Three queries: the period's evaluations (all of them, for the service means that
    are the priors), the provider's complaints, and the names of its services. The
    provider's row is the same as compute_indices(kind="provider")'s.
    """
    begin, finish = _moment(start), _moment(end)
    columns = indices.load_columns(begin, finish, None, ("provider", "service"))
    least = privacy_min()
    labels = columns.labels["provider"]
    code = labels.index(organization_id) if organization_id in labels else -2
    mine = columns.keys["provider"] == code
    columns.keys["mine"] = np.where(mine, 0, -1)
    columns.labels["mine"] = [organization_id]
    columns.keys["mine_service"] = np.where(mine, columns.service, -1)
    columns.labels["mine_service"] = columns.labels["service"]
    complaints = list(
        Complaint.objects.filter(created_at__gte=begin, created_at__lt=finish)
        .annotate(target=indices.COMPLAINT_KEYS["provider"])
        .filter(target=organization_id)
        .order_by()
        .values_list("request__service_id", flat=True)
    )
    by_service: dict[Any, int] = defaultdict(int)
    for service in complaints:
        if service is not None:
            by_service[service] += 1
    common: dict[str, Any] = {
        "weight": indices.prior_weight(),
        "start": begin,
        "end": finish,
        "region_code": None,
    }
    own = indices.indices_from_columns(
        "mine", columns, complaints={organization_id: len(complaints)}, **common
    )
    per_service = indices.indices_from_columns(
        "mine_service", columns, complaints=dict(by_service), **common
    )
    row = own.row(organization_id)
    names = {
        term_id: (name_en if _is_english() and name_en else name)
        for term_id, name, name_en in TaxonomyTerm.objects.filter(
            pk__in=[r["key"] for r in per_service.rows]
        ).values_list("id", "name", "name_en")
    }
    hidden = row is None or row["n"] < least
    return ProviderScores(
        organization_id=organization_id,
        start=start,
        end=end,
        privacy_min=least,
        row=row,
        hidden=hidden,
        formula=None if hidden or row is None else worked_formula(row, common["weight"]),
        services=sorted(
            (
                ServiceScore(
                    service_id=r["key"],
                    name=names.get(r["key"], str(r["key"])),
                    row=r,
                    hidden=r["n"] < least,
                )
                for r in per_service.rows
            ),
            key=lambda s: (-s.row["n"], s.name),
        ),
        groups=[
            (group, rows[0], rows[0]["n"] < least)
            for group, rows in sorted(own.priority_groups.items())
            if rows and rows[0]["n"]
        ],
    )


def worked_formula(row: IndexRow, weight: float) -> Formula:
    """The figures of ``(sum + m·prior) / (n + m)`` and of the complaint penalty, for a reader
    to check the index with a pencil."""
    n = int(row["n"])
    mean = float(row["mean"] or 0.0)
    prior = float(row["prior"] or 0.0)
    complaints = int(row["complaints"] or 0)
    rate = float(row["complaint_rate"] or 0.0)
    penalty = indices.complaint_penalty()
    smoothed = float(row["smoothed"] or 0.0)
    return Formula(
        n=n,
        total=round(mean * n, 6),
        mean=mean,
        prior=prior,
        weight=weight,
        smoothed=smoothed,
        complaints=complaints,
        rate=rate,
        penalty=penalty,
        deduction=penalty * rate,
        quality=float(row["quality"] or 0.0),
        floored=smoothed - penalty * rate < 1.0,
    )


# --- Who sees what ---------------------------------------------------------------------------


def own_communities(user: Any) -> set[str]:
    """The communities of the residents the user is or acts for: their scorecard is theirs
    to read (aggregates only), even with no role."""
    from linli.residents.selectors import residents_acted_for

    return {str(c) for c in residents_acted_for(user).values_list("community_id", flat=True)}


def may_see_community(user: Any, code: str) -> bool:
    return user_scope(user).covers(code) or code in own_communities(user)


def visible_scorecards(
    *, user: Any, period: Period, region_code: str = "", now: dt.datetime | None = None
) -> tuple[list[Scorecard], Scorecards | None]:
    """The scorecards a user may read (within `region_code` when given), each computed
    with its whole district; and one of the computations, for its settings."""
    scope = user_scope(user)
    own = own_communities(user)
    if region_code:
        if not (scope.covers(region_code) or region_code in own):
            raise NotFound(_("No such region in what you may see."))
        wanted = [load_prefix(region_code)]
    elif scope.everything:
        wanted = [""]
    else:
        wanted = [load_prefix(p) for p in scope.prefixes] + [load_prefix(c) for c in own]
    kept: list[str] = []
    for prefix in sorted(set(wanted), key=len):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    within = region_code  # a malformed code stays as it is and matches nothing
    if len(region_code) == 12:
        with contextlib.suppress(MalformedCode):
            within = prefix_of(region_code)
    cards: list[Scorecard] = []
    last: Scorecards | None = None
    for prefix in sorted(kept):
        last = compute_scorecards(region_code=prefix, period=period, now=now)
        cards += [
            c
            for c in last.cards
            if (scope.covers(c.code) or c.code in own) and c.code.startswith(within)
        ]
    return cards, last
