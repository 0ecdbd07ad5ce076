"""The plan's indicators and targets shipped with Linli (data/plan_targets.yaml), loaded
into Indicator and IndicatorTarget records.

Loading is idempotent and runs in a data migration, so every database (tests, the demo,
a fresh deployment) has the defaults after `linli migrate`; a later edit of the file is
applied by a new migration calling `load_defaults` again. It rewrites only what came from
the file: indicators marked as defaults (their names, definitions, verification and
source; their computation only when created, so a deployment's own stays) and targets
without a region. A deployment's indicators and its per-region targets are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

DEFAULTS_FILE = Path(__file__).resolve().parent / "data" / "plan_targets.yaml"

SECTION_KEYS = {"indicators": "plan", "sector_indicators": "sector"}

# Facility rules name places as the 2024 guideline does; the directory's kinds.
RULE_KINDS = {
    "comprehensive_service_complex": (
        "comprehensive_service_facility",
        "社区综合服务设施",
        "Comprehensive service facilities",
    ),
    "community_health_center": (
        "community_health_center",
        "社区卫生服务中心",
        "Community health centres",
    ),
    "community_health_station": (
        "health_station",
        "社区卫生服务站",
        "Community health stations",
    ),
}


@dataclass
class Default:
    code: str
    fields: dict[str, Any]
    spec: dict[str, Any] | None = None
    targets: list[tuple[int, Decimal, bool]] = field(default_factory=list)


def _scale(entry: dict[str, Any]) -> Decimal:
    """value = numerator / denominator × scale; the file says it in words."""
    match = re.search(r"/\s*([\d,]+)\s*$", str(entry.get("denominator", "")))
    if match:
        return Decimal(match.group(1).replace(",", ""))
    code = entry["code"]
    if code.endswith("_per_1000"):
        return Decimal(1000)
    if code.endswith("_per_10k") or "_per_10k_" in code:
        return Decimal(10000)
    return Decimal(100) if entry.get("unit") == "percent" else Decimal(1)


def _targets(entry: dict[str, Any]) -> list[tuple[int, Decimal, bool]]:
    found = []
    for key, is_baseline in (("baseline", True), ("target", False)):
        if isinstance(entry.get(key), dict):
            found.append((int(entry[key]["year"]), Decimal(str(entry[key]["value"])), is_baseline))
    return found


def parse_defaults(data: dict[str, Any]) -> list[Default]:
    """Every indicator the file defines, in the file's order."""
    defaults: list[Default] = []
    for key, section in SECTION_KEYS.items():
        for entry in data.get(key) or []:
            defaults.append(
                Default(
                    code=entry["code"],
                    fields={
                        "name_zh": entry["name_zh"],
                        "name_en": entry.get("name_en", ""),
                        "section": section,
                        "unit": entry.get("unit", "count"),
                        "direction": entry.get("direction", "up"),
                        "numerator_text": entry.get("numerator", ""),
                        "denominator_text": entry.get("denominator", ""),
                        "scale": _scale(entry),
                        "verified": bool(entry.get("verified", False)),
                        "source": entry.get("source", ""),
                        "details": {},
                    },
                    targets=_targets(entry),
                )
            )
    for circle in data.get("life_circles") or []:
        minutes = str(circle["level"]).removesuffix("min")
        walk = int(circle["walk_m"])
        defaults.append(
            Default(
                code=f"life_circle_{circle['level']}",
                fields={
                    "name_zh": f"{minutes}分钟生活圈覆盖率",
                    "name_en": f"Residents within the {minutes}-minute life circle ({walk} m)",
                    "section": "life_circle",
                    "unit": "percent",
                    "direction": "up",
                    "numerator_text": (
                        f"residents within {walk} m walk of every facility kind of the circle"
                    ),
                    "denominator_text": "residents",
                    "scale": Decimal(100),
                    "verified": bool(circle.get("facilities_verified", False)),
                    "source": "GB 50180-2018",
                    "details": {
                        "walk_m": walk,
                        "population": circle.get("population"),
                        "facilities": circle.get("facilities", []),
                    },
                },
            )
        )
    for name, rule in (data.get("facility_rules") or {}).items():
        if "min_area_m2" not in rule or name not in RULE_KINDS:
            continue
        kind, name_zh, name_en = RULE_KINDS[name]
        area = rule["min_area_m2"]
        defaults.append(
            Default(
                code=f"rule_{name}_min_area",
                fields={
                    "name_zh": f"{name_zh}面积达标率（不小于{area}平方米）",
                    "name_en": f"{name_en} of at least {area} m²",
                    "section": "facility_rule",
                    "unit": "percent",
                    "direction": "up",
                    "numerator_text": f"open facilities ({kind}) of at least {area} m2",
                    "denominator_text": f"open facilities ({kind}) whose floor area is known",
                    "scale": Decimal(100),
                    "verified": bool(rule.get("verified", False)),
                    "source": rule.get("source", ""),
                    "details": dict(rule),
                },
                spec={
                    "numerator": {
                        "source": "facilities",
                        "filter": {"kind": kind, "min_floor_area_m2": area},
                        "aggregate": "count",
                    },
                    "denominator": {
                        "source": "facilities",
                        "filter": {"kind": kind, "floor_area_known": True},
                        "aggregate": "count",
                    },
                },
            )
        )
    return defaults


def read_defaults(path: Path = DEFAULTS_FILE) -> list[Default]:
    with path.open(encoding="utf-8") as handle:
        return parse_defaults(yaml.safe_load(handle))


def load_defaults(
    indicator_model: Any, target_model: Any, defaults: list[Default] | None = None
) -> dict[str, int]:
    """Write the defaults; the models are passed so that a migration can use its own."""
    defaults = read_defaults() if defaults is None else defaults
    counts = {"created": 0, "updated": 0, "targets": 0}
    for order, default in enumerate(defaults, start=1):
        indicator = indicator_model.objects.filter(code=default.code).first()
        if indicator is not None and indicator.origin != "defaults":
            continue  # the deployment defined this code itself: its own wins
        values = {**default.fields, "order": order * 10, "origin": "defaults"}
        if indicator is None:
            indicator = indicator_model.objects.create(
                code=default.code, spec=default.spec, **values
            )
            counts["created"] += 1
        else:
            for name, value in values.items():
                setattr(indicator, name, value)
            indicator.save()
            counts["updated"] += 1
        kept = []
        for year, value, is_baseline in default.targets:
            row, _ = target_model.objects.update_or_create(
                indicator=indicator,
                region=None,
                year=year,
                is_baseline=is_baseline,
                defaults={"value": value},
            )
            kept.append(row.pk)
            counts["targets"] += 1
        target_model.objects.filter(indicator=indicator, region__isnull=True).exclude(
            pk__in=kept
        ).delete()
    return counts
