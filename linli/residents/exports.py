"""The access events as a CSV file: the same file from the auditor's page and the API."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .models import SENSITIVE_FIELDS, AccessEvent, field_label


class _Echo:
    """csv.writer writes to this and gets each line back, for a streamed response."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_cell(value: Any) -> str:
    """Text typed by people goes to a spreadsheet: never let it start a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def access_events_csv(events: QuerySet[AccessEvent]) -> StreamingHttpResponse:
    """Stream `events` as CSV for Excel (UTF-8 with a byte-order mark, so Chinese opens
    right). It names who read which record number, not residents' data, so it writes no
    access event of its own."""
    # Headers and labels are translated now, in the request's language: the rows are
    # written after the view has returned, as the server sends them.
    header = [
        _("Time"),
        _("Who"),
        _("Action"),
        _("Record number"),
        _("Community code"),
        _("Community"),
        _("Fields"),
        _("Purpose"),
    ]
    actions = {code: str(label) for code, label in AccessEvent.Action.choices}
    labels = {name: field_label(name) for name in SENSITIVE_FIELDS}
    names: dict[str, str] = {}
    zone = timezone.get_current_timezone()
    writer = csv.writer(_Echo())

    def community_name(code: str) -> str:
        if code not in names:
            region = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first()
            names[code] = region.display_name if region else ""
        return names[code]

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.at.astimezone(zone).isoformat(timespec="seconds"),
                    spreadsheet_cell(event.actor_username),
                    actions.get(event.action, event.action),
                    event.resident_ref,
                    event.community_code,
                    community_name(event.community_code),
                    "; ".join(labels.get(f, f) for f in event.fields),
                    spreadsheet_cell(event.purpose),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="access-events-{stamp}.csv"'
    return response
