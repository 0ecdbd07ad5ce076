"""The plan's service taxonomy and priority groups, shipped with Linli.

Term ids are derived from their codes (UUID 5), so the same term has the same
HSDS id in every deployment and partner systems can rely on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data" / "service_taxonomy.yaml"
NAMESPACE = uuid.UUID("6f0c5a1e-2d4b-5c7a-9e3f-0a1b2c3d4e5f")
SERVICES_TAXONOMY = "linli-community-services"
PRIORITY_TAXONOMY = "linli-priority-groups"


def taxonomy_uuid(taxonomy_code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, taxonomy_code)


def taxonomy_uri(taxonomy_code: str) -> str:
    """HSDS types a taxonomy's `uri` as a URI: a URN names ours without a web address."""
    return f"urn:linli:taxonomy:{taxonomy_code}"


def term_uuid(taxonomy_code: str, term_code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{taxonomy_code}:{term_code}")


@dataclass(frozen=True)
class TermSpec:
    code: str
    name: str
    name_en: str
    parent: str | None = None


@dataclass(frozen=True)
class TaxonomySpec:
    code: str
    name: str
    name_en: str
    version: str
    terms: list[TermSpec] = field(default_factory=list)


def _flatten(nodes: list[dict], parent: str | None = None) -> list[TermSpec]:
    terms = []
    for node in nodes:
        terms.append(TermSpec(node["code"], node["zh"], node["en"], parent))
        terms += _flatten(node.get("children", []), node["code"])
    return terms


def shipped_taxonomies(path: Path = DATA) -> list[TaxonomySpec]:
    """The service taxonomy and the priority groups, parents before children."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    head = data["taxonomy"]
    return [
        TaxonomySpec(
            code=head["code"],
            name=head["name_zh"],
            name_en=head["name_en"],
            version=str(head.get("version", "")),
            terms=_flatten(data["terms"]),
        ),
        TaxonomySpec(
            code=PRIORITY_TAXONOMY,
            name="重点服务对象",
            name_en="Priority groups",
            version=str(head.get("version", "")),
            terms=_flatten(data["priority_groups"]),
        ),
    ]


def install(taxonomy_model: Any, term_model: Any, path: Path = DATA) -> int:
    """Create or update the shipped taxonomies; works with historical models in migrations."""
    count = 0
    for spec in shipped_taxonomies(path):
        taxonomy, _created = taxonomy_model.objects.update_or_create(
            id=taxonomy_uuid(spec.code),
            defaults={
                "name": spec.name,
                "description": spec.name_en,
                "uri": taxonomy_uri(spec.code),
                "version": spec.version,
            },
        )
        for term in spec.terms:
            term_model.objects.update_or_create(
                id=term_uuid(spec.code, term.code),
                defaults={
                    "taxonomy_ref": taxonomy,
                    "code": term.code,
                    "name": term.name,
                    "name_en": term.name_en,
                    "description": term.name_en,
                    "taxonomy": spec.code,
                    "parent_id": term_uuid(spec.code, term.parent) if term.parent else None,
                    "language": "zh",
                },
            )
            count += 1
    return count
