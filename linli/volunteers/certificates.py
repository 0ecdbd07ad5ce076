"""Service record certificates: what a volunteer did, frozen when issued, checkable by
anyone who holds the verification code.

The 2021 volunteer service record measures ask that records be true, complete and free
of charge, and that a volunteer may have a certificate of them. `certificate_issue`
(the volunteer themself, free) freezes the content as JSON: who, where, the hours by
activity and by request (net of corrections, from the ledger's earning transfers),
the totals and when it was issued, with a random code. The PDF is drawn from that
frozen content at each download, so it always says what the verification page says.

Nothing here logs a name, a code or hours: the log says only that a certificate (by
its row id) was issued.
"""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.notifications.texts import in_languages, localized
from linli.requests.models import ServiceRequest

from .choices import AccountKind, TransferKind
from .ledger import hours
from .models import Activity, Attendance, Certificate, Movement, Transfer, Volunteer

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: a code read aloud or copied from paper is not mistaken. 31 symbols, 12
# of them: about 59 bits, far beyond guessing, so the code itself is the permission.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
CONTENT_VERSION = 1
ZERO = Decimal("0.00")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a person typed, as stored: capitals, without spaces or dashes."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t")


def grouped_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read aloud and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _day(moment: Any) -> str:
    return timezone.localdate(moment).isoformat() if moment else ""


def _money(value: Decimal) -> str:
    return str(hours(value))


def _lines(volunteer: Volunteer) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Decimal]:
    """The hours by activity and by request, net of reversals (a reversal carries the
    activity or request of the booking it corrects), and the hours earned for neither.
    Lines whose hours were corrected to nothing are left out."""
    earned = (
        Movement.objects.filter(
            account__kind=AccountKind.ISSUANCE, transfer__earned_by_id=volunteer.user_id
        )
        .values("transfer__activity", "transfer__request")
        .annotate(total=Sum("amount"), first=Min("transfer__created_at"))
        .order_by()
    )
    by_activity: dict[int, tuple[Decimal, Any]] = {}
    by_request: dict[int, tuple[Decimal, Any]] = {}
    other = ZERO
    for row in earned:
        amount = -hours(row["total"] or 0)
        if row["transfer__activity"] is not None:
            before = by_activity.get(row["transfer__activity"], (ZERO, row["first"]))
            by_activity[row["transfer__activity"]] = (before[0] + amount, before[1])
        elif row["transfer__request"] is not None:
            before = by_request.get(row["transfer__request"], (ZERO, row["first"]))
            by_request[row["transfer__request"]] = (before[0] + amount, before[1])
        else:
            other += amount
    by_activity = {pk: v for pk, v in by_activity.items() if v[0] > 0}
    by_request = {pk: v for pk, v in by_request.items() if v[0] > 0}

    activities = Activity.objects.filter(pk__in=by_activity).select_related(
        "organization", "community", "created_by"
    )
    # Whoever records certifies: the attendance's certifier, else whoever booked the hours.
    certifiers: dict[int, str] = {}
    for attendance in Attendance.objects.filter(
        signup__volunteer=volunteer, signup__activity_id__in=list(by_activity)
    ).select_related("certified_by", "signup"):
        if attendance.certified_by is not None:
            certifiers[attendance.signup.activity_id] = attendance.certified_by.display_name
    for transfer in (
        Transfer.objects.filter(
            earned_by_id=volunteer.user_id,
            kind=TransferKind.ACTIVITY_HOURS,
            activity_id__in=list(by_activity),
            created_by__isnull=False,
        )
        .select_related("created_by")
        .order_by("created_at", "id")
    ):
        if transfer.activity_id is not None and transfer.created_by is not None:
            certifiers.setdefault(transfer.activity_id, transfer.created_by.display_name)
    activity_lines = [
        {
            "title": activity.title,
            "date": _day(activity.starts_at),
            "organizer": in_languages({"zh-hans": activity.organization.name})
            if activity.organization
            else in_languages(
                {"zh-hans": activity.community.name, "en": activity.community.name_en}
            ),
            "hours": _money(by_activity[activity.pk][0]),
            "certified_by": certifiers.get(activity.pk, ""),
        }
        for activity in activities
    ]
    activity_lines.sort(key=lambda line: (line["date"], line["title"]))

    requests = ServiceRequest.objects.filter(pk__in=by_request).select_related("service")
    request_lines = [
        {
            "public_id": request.public_id,
            "service": in_languages(
                {"zh-hans": request.service.name, "en": request.service.name_en}
            ),
            "date": _day(request.completed_at or by_request[request.pk][1]),
            "hours": _money(by_request[request.pk][0]),
        }
        for request in requests
    ]
    request_lines.sort(key=lambda line: (line["date"], line["public_id"]))
    return activity_lines, request_lines, other


def certificate_content(volunteer: Volunteer, *, code: str, issued_at: Any) -> dict[str, Any]:
    """What a certificate says, as plain JSON values (hours as strings to the hundredth;
    names of places and services in both languages where known)."""
    activity_lines, request_lines, other = _lines(volunteer)
    activity_total = sum((Decimal(line["hours"]) for line in activity_lines), ZERO)
    request_total = sum((Decimal(line["hours"]) for line in request_lines), ZERO)
    dates = [line["date"] for line in (*activity_lines, *request_lines) if line["date"]]
    community = volunteer.community
    return {
        "version": CONTENT_VERSION,
        "code": code,
        "name": volunteer.name,
        "community": in_languages({"zh-hans": community.name, "en": community.name_en}),
        "community_code": community.code,
        "organization": volunteer.organization.name if volunteer.organization else "",
        "period": {"from": min(dates), "to": max(dates)} if dates else None,
        "activities": activity_lines,
        "requests": request_lines,
        "totals": {
            "activities": _money(activity_total),
            "requests": _money(request_total),
            "other": _money(other),
            "hours": _money(activity_total + request_total + other),
            "activity_count": len(activity_lines),
            "request_count": len(request_lines),
        },
        "issued_at": issued_at.isoformat(),
    }


@transaction.atomic
def certificate_issue(*, volunteer: Volunteer, actor: User) -> Certificate:
    """Issue a service record certificate to the volunteer themself, free of charge."""
    if actor is None or actor.pk != volunteer.user_id:
        raise PermissionDenied(_("Only the volunteer asks for their own certificate."))
    volunteer = Volunteer.objects.select_related("community", "organization").get(pk=volunteer.pk)
    content = certificate_content(volunteer, code="", issued_at=timezone.now())
    total = Decimal(content["totals"]["hours"])
    if total <= 0:
        raise ValidationFailed(
            fields={"volunteer": [_("There are no confirmed hours to certify yet.")]}
        )
    for _attempt in range(5):
        content["code"] = new_code()
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(
                    volunteer=volunteer, code=content["code"], content=content, total_hours=total
                )
        except IntegrityError:
            continue  # the same code drawn twice: draw again
        # The content says the moment the row records, to the microsecond.
        content["issued_at"] = certificate.issued_at.isoformat()
        certificate.save(update_fields=["content"])
        logger.info("Service record certificate %s issued", certificate.pk)
        return certificate
    raise RuntimeError("no free certificate code after 5 draws")


def certificate_find(code: str) -> Certificate | None:
    """The certificate with this code, as typed or scanned; None when there is none."""
    normalized = normalize_code(code)
    if len(normalized) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in normalized):
        return None
    return Certificate.objects.filter(code=normalized).first()


def certificates_of(volunteer: Volunteer) -> list[Certificate]:
    return list(Certificate.objects.filter(volunteer=volunteer).order_by("-issued_at", "-id"))


def verify_path(code: str) -> str:
    return reverse("volunteers:certificate_verify", args=[code])


def verify_url(code: str, *, base: str = "") -> str:
    """The public page of the code, absolute: LINLI_SITE_URL when set, else `base` (the
    address the request came to), so the QR code works when scanned off paper."""
    site = (settings.LINLI_SITE_URL or base).rstrip("/")
    return f"{site}{verify_path(code)}"


# --- what a certificate says, as people read it -----------------------------------------


@dataclass(frozen=True)
class Shown:
    """The frozen content with names in the reader's language, for pages and the PDF."""

    content: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.content["code"])

    @property
    def grouped_code(self) -> str:
        return grouped_code(self.code)

    @property
    def name(self) -> str:
        return str(self.content["name"])

    @property
    def community(self) -> str:
        return localized(self.content["community"])

    @property
    def organization(self) -> str:
        return str(self.content.get("organization") or "")

    @property
    def period(self) -> dict[str, str] | None:
        return self.content.get("period")

    @property
    def activities(self) -> list[dict[str, Any]]:
        return [
            {**line, "organizer": localized(line["organizer"])}
            for line in self.content["activities"]
        ]

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [
            {**line, "service": localized(line["service"])} for line in self.content["requests"]
        ]

    @property
    def totals(self) -> dict[str, Any]:
        return dict(self.content["totals"])

    @property
    def issued_at(self) -> Any:
        moment = parse_datetime(self.content["issued_at"])
        return timezone.localtime(moment) if moment else None


def certificate_pdf(certificate: Certificate, *, base: str = "") -> bytes:
    """The certificate as an A4 PDF: the lines, the totals, the code and a QR code of the
    verification page. Chinese is set in reportlab's built-in CID font STSong-Light,
    which PDF readers supply, so no font file ships with Linli or the PDF."""
    from reportlab.graphics.barcode.qr import QrCodeWidget  # type: ignore[import-untyped]
    from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped]
    from reportlab.lib import colors  # type: ignore[import-untyped]
    from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
    from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
    from reportlab.lib.units import mm  # type: ignore[import-untyped]
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
    from reportlab.platypus import (  # type: ignore[import-untyped]
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    shown = Shown(certificate.content)
    url = verify_url(shown.code, base=base)

    def style(size: float, **extra: Any) -> Any:
        return ParagraphStyle(
            f"s{size}", fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **extra
        )

    title, body, small = style(20, alignment=1, spaceAfter=6 * mm), style(11), style(9)

    def p(text: Any, st: Any = None) -> Any:
        return Paragraph(escape(str(text)), st or small)

    story: list[Any] = [p(_("Volunteer service record certificate"), title)]
    period = shown.period
    where = (
        _("%(community)s (%(organization)s)")
        % {"community": shown.community, "organization": shown.organization}
        if shown.organization
        else shown.community
    )
    if period:
        intro = _(
            "%(name)s, volunteer of %(where)s, gave the volunteer service below between "
            "%(start)s and %(end)s, as recorded and certified by its organizers."
        ) % {"name": shown.name, "where": where, "start": period["from"], "end": period["to"]}
    else:
        intro = _("%(name)s, volunteer of %(where)s, gave the volunteer service below.") % {
            "name": shown.name,
            "where": where,
        }
    story += [p(intro, body), Spacer(1, 4 * mm)]
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 9),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    if shown.activities:
        story.append(p(_("Hours by activity"), body))
        rows = [
            [p(_("Date")), p(_("Activity")), p(_("Organizer")), p(_("Hours")), p(_("Certified by"))]
        ]
        rows += [
            [p(a["date"]), p(a["title"]), p(a["organizer"]), p(a["hours"]), p(a["certified_by"])]
            for a in shown.activities
        ]
        story += [
            Table(
                rows,
                colWidths=[24 * mm, 56 * mm, 44 * mm, 18 * mm, 28 * mm],
                style=grid,
                repeatRows=1,
            ),
            Spacer(1, 4 * mm),
        ]
    if shown.requests:
        story.append(p(_("Hours by service request"), body))
        rows = [[p(_("Date")), p(_("Request")), p(_("Service")), p(_("Hours"))]]
        rows += [
            [p(r["date"]), p(r["public_id"]), p(r["service"]), p(r["hours"])]
            for r in shown.requests
        ]
        story += [
            Table(rows, colWidths=[24 * mm, 40 * mm, 88 * mm, 18 * mm], style=grid, repeatRows=1),
            Spacer(1, 4 * mm),
        ]
    totals = shown.totals
    facts = [
        [p(_("Hours for activities"), body), p(totals["activities"], body)],
        [p(_("Hours for service requests"), body), p(totals["requests"], body)],
    ]
    if Decimal(totals["other"]) != 0:
        facts.append([p(_("Other confirmed hours"), body), p(totals["other"], body)])
    facts.append([p(_("Total hours"), body), p(totals["hours"], body)])
    story += [Table(facts, colWidths=[60 * mm, 30 * mm], hAlign="LEFT"), Spacer(1, 6 * mm)]

    qr = QrCodeWidget(url)
    left, bottom, right, top = qr.getBounds()
    side = 32 * mm
    drawing = Drawing(
        side, side, transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0]
    )
    drawing.add(qr)
    issued = shown.issued_at
    check = [
        p(_("Verification code: %(code)s") % {"code": shown.grouped_code}, body),
        p(_("Anyone can check this certificate, free of charge, at %(url)s") % {"url": url}),
        p(
            _("Issued by Linli on %(date)s.")
            % {"date": issued.strftime("%Y-%m-%d %H:%M") if issued else ""}
        ),
    ]
    story.append(Table([[check, drawing]], colWidths=[130 * mm, 36 * mm], hAlign="LEFT"))

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Volunteer service record certificate"),
        # The code in plain text in the document's information: a reader (or a test)
        # finds it without unpacking the page streams.
        subject=shown.code,
        author="Linli",
        creator="Linli",
    )
    document.build(story)
    return out.getvalue()
