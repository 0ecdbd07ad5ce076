"""Satisfaction indices per provider, responder, community and service, and manipulation flags.

The evaluations of a period are loaded with one `values_list` query into numpy
arrays and grouped with `np.unique` + `np.bincount`; the ORM never loops over rows
(CONVENTIONS #12). The formulas are in `scores.py`.

Choices, written down because they move numbers:

- The period is half-open, ``period_start <= created_at < period_end``; dates are
  local midnights (``TIME_ZONE``). An evaluation belongs to the period it was made in.
- Hidden comments still count: hiding is moderation of the text, not of the rating.
- The prior of the shrinkage is the mean overall rating of the same service over the
  period (within `region_code` when given). A provider, responder or community offers
  several services, so its prior is the mean over its own evaluations of their
  service's mean: a provider doing mostly hard, badly rated services is pulled
  toward a low prior, not toward the city's average. For the service index itself
  the prior is the mean of all evaluations of the period (a service's own mean would
  make shrinkage a no-op).
- Priority-group rows use the same service means as priors (taken over everyone),
  so a group is compared against the common yardstick, not against itself.
- Complaints are counted in the period they were filed, attributed: to a provider if
  filed against it, against one of its responders, or against a request one of its
  responders delivered; to a responder if filed against them or a request they
  delivered; to a community by the complaint's community; to a service through the
  request it was filed against. Complaints are not split by priority group (a
  complaint carries no group), so group rows have none. An entity with complaints
  and no evaluations gets a row with n = 0 so the complaints stay visible.
- The facility index reads facility ratings (`FacilityRating`, facilities.py), not
  evaluations of requests: the same figures, by facility. Its prior is the mean of all
  facility ratings of the period (within `region_code`), as for the service index;
  needs met has no figure (a facility rating asks no such question); complaints are
  those filed against the facility. The region is the rating's community (the
  facility's, else the visitor's).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np
from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.choices import Role

from . import scores
from .models import Complaint, Evaluation, FacilityRating

Kind = Literal["provider", "responder", "community", "service", "facility"]
# Kinds computed from evaluations of requests; "facility" reads facility ratings.
EVALUATION_KINDS: tuple[Kind, ...] = ("provider", "responder", "community", "service")
KINDS: tuple[Kind, ...] = (*EVALUATION_KINDS, "facility")

# The evaluation column each kind groups by.
KEY_FIELDS: dict[str, str] = {
    "provider": "organization_id",
    "responder": "responder_id",
    "community": "community_id",
    "service": "service_id",
    "facility": "facility_id",  # of FacilityRating
}

# How a complaint is attributed to each kind (see the module's docstring).
COMPLAINT_KEYS: dict[str, Any] = {
    "provider": Coalesce(
        "organization_id", "responder__organization_id", "request__responder__organization_id"
    ),
    "responder": Coalesce("responder_id", "request__responder_id"),
    "community": F("community_id"),
    "service": F("request__service_id"),
    "facility": F("facility_id"),
}


class IndexRow(TypedDict):
    key: Any
    n: int
    mean: float | None
    prior: float | None
    smoothed: float | None
    satisfied: int
    satisfied_share: float | None
    satisfied_lower: float | None
    needs_n: int
    needs_met: float | None
    complaints: int | None
    complaint_rate: float | None
    # The smoothed mean less the complaint penalty (scores.quality): what moves money.
    quality: float | None


@dataclass(frozen=True)
class Indices:
    kind: str
    period_start: dt.datetime
    period_end: dt.datetime
    region_code: str | None
    prior_weight: float
    rows: list[IndexRow]
    # Priority group code → that group's rows, apart from everyone's.
    priority_groups: dict[str, list[IndexRow]] = field(default_factory=dict)

    def row(self, key: Any) -> IndexRow | None:
        return next((r for r in self.rows if r["key"] == key), None)


def prior_weight() -> float:
    """`m` of the shrinkage, in ratings (setting LINLI_INDEX_PRIOR_WEIGHT)."""
    return float(settings.LINLI_INDEX_PRIOR_WEIGHT)


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _period_q(start: dt.datetime, end: dt.datetime, region_code: str | None) -> Q:
    q = Q(created_at__gte=start, created_at__lt=end)
    if region_code:
        q &= Q(community__code__startswith=region_code)  # the code is the key: no join
    return q


def complaint_penalty() -> float:
    """Quality points a complaint per evaluated request costs (LINLI_INDEX_COMPLAINT_PENALTY)."""
    return float(settings.LINLI_INDEX_COMPLAINT_PENALTY)


def _none(value: Any) -> float | None:
    return None if np.isnan(value) else float(value)


# --- Loading ---------------------------------------------------------------------------------


@dataclass
class Columns:
    """The evaluations of a period as arrays, one element per evaluation.

    Keys (UUIDs, region codes, ids) are factorized to dense integer codes, -1 for
    none, numbered in the order of the sorted keys; `labels[kind][code]` is the key.
    """

    keys: dict[str, np.ndarray]
    labels: dict[str, list[Any]]
    service: np.ndarray  # service code per evaluation
    overall: np.ndarray
    need: np.ndarray  # 1 / 0.5 / 0, NaN unanswered
    group: np.ndarray  # priority group code, "" for none


def factorize(values: Any, count: int) -> tuple[np.ndarray, list[Any]]:
    """Dense integer codes for hashable values (None → -1), codes following sorted keys.

    One dictionary pass: hashing a UUID is far cheaper than sorting a million of them
    as Python objects, and numpy has no UUID type.
    """
    table: dict[Any, int] = {None: -1}
    codes = np.fromiter(
        (table.setdefault(v, len(table) - 1) for v in values), dtype=np.int64, count=count
    )
    del table[None]
    labels = list(table)
    order = sorted(range(len(labels)), key=lambda i: str(labels[i]))
    rank = np.empty(len(labels) + 1, dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(labels), dtype=np.int64)
    rank[-1] = -1  # code -1 indexes the last slot
    return rank[codes], [labels[i] for i in order]


def load_columns(
    start: dt.datetime, end: dt.datetime, region_code: str | None, kinds: tuple[str, ...]
) -> Columns:
    """One query: the key columns of `kinds`, service, overall, need met and priority group."""
    names = [KEY_FIELDS[k] for k in kinds if k != "service"]
    rows = list(
        Evaluation.objects.filter(_period_q(start, end, region_code))
        .order_by()
        .values_list(*names, "service_id", "overall", "need_met", "priority_group")
    )
    width = len(names) + 4
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * width
    count = len(rows)
    del rows
    service, service_labels = factorize(columns[len(names)], count)
    keys: dict[str, np.ndarray] = {}
    labels: dict[str, list[Any]] = {}
    for index, kind in enumerate(k for k in kinds if k != "service"):
        keys[kind], labels[kind] = factorize(columns[index], count)
    if "service" in kinds:
        keys["service"], labels["service"] = service, service_labels
    return Columns(
        keys=keys,
        labels=labels,
        service=service,
        overall=np.fromiter(columns[len(names) + 1], dtype=np.float64, count=count),
        need=scores.need_met_scores(np.array(columns[len(names) + 2], dtype=object)),
        group=np.array(columns[len(names) + 3], dtype=object).astype(str),
    )


def load_facility_columns(start: dt.datetime, end: dt.datetime, region_code: str | None) -> Columns:
    """One query: facility, overall and priority group of the period's facility ratings."""
    rows = list(
        FacilityRating.objects.filter(_period_q(start, end, region_code))
        .order_by()
        .values_list("facility_id", "overall", "priority_group")
    )
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 3
    count = len(rows)
    del rows
    keys, labels = factorize(columns[0], count)
    return Columns(
        keys={"facility": keys},
        labels={"facility": labels},
        service=np.full(count, -1, dtype=np.int64),
        overall=np.fromiter(columns[1], dtype=np.float64, count=count),
        need=np.full(count, np.nan),
        group=np.array(columns[2], dtype=object).astype(str),
    )


def _complaint_counts(
    kind: str, start: dt.datetime, end: dt.datetime, region_code: str | None
) -> dict[Any, int]:
    counted = (
        Complaint.objects.filter(_period_q(start, end, region_code))
        .annotate(target=COMPLAINT_KEYS[kind])
        .exclude(target=None)
        .order_by()
        .values_list("target", flat=True)
    )
    return dict(Counter(counted))


# --- Computing -------------------------------------------------------------------------------


def _service_prior(columns: Columns) -> np.ndarray:
    """For each evaluation, the period's mean overall rating of its service."""
    services, inverse = scores.group_index(columns.service)
    means = scores.mean(
        scores.group_sum(inverse, columns.overall, len(services)),
        scores.group_count(inverse, len(services)),
    )
    return means[inverse] if len(services) else np.zeros(0)


def _rows(
    keys: np.ndarray,
    labels: list[Any],
    overall: np.ndarray,
    need: np.ndarray,
    prior: np.ndarray,
    weight: float,
    complaints: dict[Any, int] | None,
) -> list[IndexRow]:
    unique, inverse = scores.group_index(keys)
    size = len(unique)
    penalty = complaint_penalty()
    n = scores.group_count(inverse, size)
    sums = scores.group_sum(inverse, overall, size)
    entity_prior = scores.mean(scores.group_sum(inverse, prior, size), n)
    satisfied = scores.group_count(inverse, size, overall >= scores.SATISFIED_FROM)
    answered = ~np.isnan(need)
    needs_n = scores.group_count(inverse, size, answered)
    needs_sum = scores.group_sum(inverse, need, size)
    means = scores.mean(sums, n)
    smoothed = scores.shrunk_mean(sums, n, entity_prior, weight)
    share = scores.share(satisfied, n)
    lower = scores.wilson_lower(satisfied, n)
    needs_met = scores.mean(needs_sum, needs_n)
    rows: list[IndexRow] = []
    for i, code in enumerate(unique.tolist()):
        key = labels[code]
        complained = None if complaints is None else complaints.get(key, 0)
        rate = None if complained is None else _none(complained / n[i])
        rated_quality = scores.quality(smoothed[i], np.nan if rate is None else rate, penalty)
        rows.append(
            IndexRow(
                key=key,
                n=int(n[i]),
                mean=_none(means[i]),
                prior=_none(entity_prior[i]),
                smoothed=_none(smoothed[i]),
                satisfied=int(satisfied[i]),
                satisfied_share=_none(share[i]),
                satisfied_lower=_none(lower[i]),
                needs_n=int(needs_n[i]),
                needs_met=_none(needs_met[i]),
                complaints=complained,
                complaint_rate=rate,
                quality=_none(rated_quality),
            )
        )
    if complaints is not None:
        evaluated = {labels[code] for code in unique.tolist()}
        for key in sorted((k for k in complaints if k not in evaluated), key=str):
            rows.append(_complaints_only(key, complaints[key]))
    return rows


def _complaints_only(key: Any, complaints: int) -> IndexRow:
    return IndexRow(
        key=key,
        n=0,
        mean=None,
        prior=None,
        smoothed=None,
        satisfied=0,
        satisfied_share=None,
        satisfied_lower=None,
        needs_n=0,
        needs_met=None,
        complaints=complaints,
        complaint_rate=None,
        quality=None,
    )


def indices_from_columns(
    kind: str,
    columns: Columns,
    *,
    complaints: dict[Any, int],
    weight: float,
    start: dt.datetime,
    end: dt.datetime,
    region_code: str | None,
) -> Indices:
    """The indices of one kind from loaded columns (no database access)."""
    keys, labels = columns.keys[kind], columns.labels[kind]
    if kind in ("service", "facility"):
        grand = float(columns.overall.mean()) if len(columns.overall) else np.nan
        prior = np.full(len(keys), grand)
    else:
        prior = _service_prior(columns)
    present = keys >= 0
    rows = _rows(
        keys[present],
        labels,
        columns.overall[present],
        columns.need[present],
        prior[present],
        weight,
        complaints,
    )
    groups: dict[str, list[IndexRow]] = {}
    for code in sorted(set(np.unique(columns.group[present]).tolist()) - {""}):
        mask = present & (columns.group == code)
        groups[code] = _rows(
            keys[mask], labels, columns.overall[mask], columns.need[mask], prior[mask], weight, None
        )
    return Indices(
        kind=kind,
        period_start=start,
        period_end=end,
        region_code=region_code,
        prior_weight=weight,
        rows=rows,
        priority_groups=groups,
    )


def compute_indices(
    *,
    kind: Kind,
    period_start: dt.date | dt.datetime,
    period_end: dt.date | dt.datetime,
    region_code: str | None = None,
) -> Indices:
    """The satisfaction indices of one kind over a period, optionally within a region."""
    if kind not in KEY_FIELDS:
        raise ValueError(f"unknown kind of index: {kind!r}")
    start, end = _moment(period_start), _moment(period_end)
    if kind == "facility":
        columns = load_facility_columns(start, end, region_code)
    else:
        columns = load_columns(start, end, region_code, (kind,))
    return indices_from_columns(
        kind,
        columns,
        complaints=_complaint_counts(kind, start, end, region_code),
        weight=prior_weight(),
        start=start,
        end=end,
        region_code=region_code,
    )


def compute_all_indices(
    *,
    period_start: dt.date | dt.datetime,
    period_end: dt.date | dt.datetime,
    region_code: str | None = None,
) -> dict[str, Indices]:
    """Every kind: one load of the evaluations, one of the facility ratings, and one
    complaint query per kind."""
    start, end = _moment(period_start), _moment(period_end)
    columns = load_columns(start, end, region_code, EVALUATION_KINDS)
    facility_columns = load_facility_columns(start, end, region_code)
    weight = prior_weight()
    return {
        kind: indices_from_columns(
            kind,
            facility_columns if kind == "facility" else columns,
            complaints=_complaint_counts(kind, start, end, region_code),
            weight=weight,
            start=start,
            end=end,
            region_code=region_code,
        )
        for kind in KINDS
    }


# --- Manipulation flags ----------------------------------------------------------------------

FLAG_REASONS = {
    "many_ratings": _("One person rated many requests"),
    "burst": _("Many ratings for one responder within an hour"),
    "own_staff": _("Rated by the provider's own staff"),
    "own_responder": _("Rated by the responder themselves"),
}


class FlagRow(TypedDict):
    reason: str
    rater_id: int | None
    responder_id: int | None
    organization_id: int | None
    count: int
    by_proxy: int
    first_at: dt.datetime
    last_at: dt.datetime
    evaluation_ids: list[int]


def flags_for(
    *,
    period_start: dt.date | dt.datetime,
    period_end: dt.date | dt.datetime,
    region_code: str | None = None,
) -> list[FlagRow]:
    """Signs of manipulation for a reviewer to look at; nothing is penalised automatically.

    - many_ratings: one account rated at least LINLI_INDEX_FLAG_RATER_MIN requests
      (default 10) in the period; proxies rating for many people show up here.
    - burst: a responder received at least LINLI_INDEX_FLAG_BURST_MIN ratings
      (default 5) within 60 minutes; the row is the densest such hour.
    - own_staff: the rater holds a provider_staff role on the organization rated.
    - own_responder: the rater is the responder's own account.
    """
    start, end = _moment(period_start), _moment(period_end)
    period = _period_q(start, end, region_code)
    rows = list(
        Evaluation.objects.filter(period)
        .order_by()
        .values_list("id", "rater_id", "responder_id", "created_at", "by_proxy")
    )
    flags: list[FlagRow] = []
    if rows:
        ids, raters, responders, moments, proxies = zip(*rows, strict=True)
        count = len(rows)
        id_arr = np.fromiter(ids, dtype=np.int64, count=count)
        rater = np.fromiter(raters, dtype=np.int64, count=count)
        responder = np.fromiter(
            (-1 if r is None else r for r in responders), dtype=np.int64, count=count
        )
        seconds = np.fromiter((m.timestamp() for m in moments), dtype=np.float64, count=count)
        proxy = np.fromiter(proxies, dtype=bool, count=count)
        flags += _many_ratings(id_arr, rater, seconds, proxy, list(moments))
        flags += _bursts(id_arr, responder, seconds, proxy, list(moments))
    flags += _own_people(period)
    return flags


def _many_ratings(
    ids: np.ndarray, rater: np.ndarray, seconds: np.ndarray, proxy: np.ndarray, moments: list[Any]
) -> list[FlagRow]:
    least = int(settings.LINLI_INDEX_FLAG_RATER_MIN)
    unique, inverse = scores.group_index(rater)
    counts = scores.group_count(inverse, len(unique))
    flags: list[FlagRow] = []
    for g in np.flatnonzero(counts >= least):
        members = np.flatnonzero(inverse == g)
        members = members[np.argsort(seconds[members], kind="stable")]
        flags.append(
            FlagRow(
                reason="many_ratings",
                rater_id=int(unique[g]),
                responder_id=None,
                organization_id=None,
                count=int(counts[g]),
                by_proxy=int(proxy[members].sum()),
                first_at=moments[members[0]],
                last_at=moments[members[-1]],
                evaluation_ids=sorted(ids[members].tolist()),
            )
        )
    return flags


def _bursts(
    ids: np.ndarray,
    responder: np.ndarray,
    seconds: np.ndarray,
    proxy: np.ndarray,
    moments: list[Any],
) -> list[FlagRow]:
    least = int(settings.LINLI_INDEX_FLAG_BURST_MIN)
    window = 3600.0
    keep = np.flatnonzero(responder >= 0)
    if len(keep) == 0:
        return []
    # Sort by (responder, time); a window never crosses responders because each
    # responder's times are shifted far beyond the previous one's.
    order = keep[np.lexsort((seconds[keep], responder[keep]))]
    _unique, dense = np.unique(responder[order], return_inverse=True)
    base = seconds[order] - seconds.min()
    stretch = base.max() + 2 * window
    position = dense.reshape(-1) * stretch + base
    # For each rating, how many of the same responder's follow within the hour.
    in_window = np.searchsorted(position, position + window, side="left") - np.arange(len(order))
    flags: list[FlagRow] = []
    for group in np.unique(dense[in_window >= least]):
        rows = np.flatnonzero(dense == group)
        first = rows[np.argmax(in_window[rows])]
        members = order[first : first + int(in_window[first])]
        flags.append(
            FlagRow(
                reason="burst",
                rater_id=None,
                responder_id=int(responder[members[0]]),
                organization_id=None,
                count=len(members),
                by_proxy=int(proxy[members].sum()),
                first_at=moments[members[0]],
                last_at=moments[members[-1]],
                evaluation_ids=sorted(ids[members].tolist()),
            )
        )
    return flags


def _own_people(period: Q) -> list[FlagRow]:
    """Evaluations by the rated provider's staff or the responder themselves: one query each."""
    staff = Q(
        rater__role_assignments__role=Role.PROVIDER_STAFF,
        rater__role_assignments__organization=F("organization"),
    )
    flags: list[FlagRow] = []
    for reason, condition in (
        ("own_staff", staff),
        ("own_responder", Q(rater=F("responder__user"))),
    ):
        rows = (
            Evaluation.objects.filter(period & condition)
            .order_by("rater_id", "created_at", "id")
            .values_list(
                "id", "rater_id", "responder_id", "organization_id", "created_at", "by_proxy"
            )
            .distinct()
        )
        grouped: dict[tuple[int, Any], list[Any]] = {}
        for row in rows:
            target = row[3] if reason == "own_staff" else row[2]
            grouped.setdefault((row[1], target), []).append(row)
        for (rater_id, _target), members in grouped.items():
            flags.append(
                FlagRow(
                    reason=reason,
                    rater_id=rater_id,
                    responder_id=members[0][2] if reason == "own_responder" else None,
                    organization_id=members[0][3] if reason == "own_staff" else None,
                    count=len(members),
                    by_proxy=sum(1 for m in members if m[5]),
                    first_at=members[0][4],
                    last_at=members[-1][4],
                    evaluation_ids=sorted(m[0] for m in members),
                )
            )
    return flags
