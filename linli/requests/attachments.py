"""Photos and documents that come with a request: checked by their bytes, capped in size
and number, added only by those involved in the request."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied, ValidationFailed

from .choices import State
from .models import Attachment, ServiceRequest
from .services import is_keeper, is_responder, is_served

# What a file's first bytes say it is; the name and the browser's claim are not trusted.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
MAX_PER_REQUEST = 5
FINISHED = (State.CLOSED, State.CANCELLED, State.REJECTED)


def max_bytes() -> int:
    return int(getattr(settings, "LINLI_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024))


def sniff(head: bytes) -> str:
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), "")


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return head


def involved(actor: User, request: ServiceRequest) -> bool:
    """The person served or their proxy, the community's workers, the responder holding it:
    who may add and see its files. Officials see requests as figures, not photos."""
    return (
        is_served(actor, request)
        or is_keeper(actor, request)
        or is_responder(actor, request.responder)
    )


def attachments_for(actor: User, request: ServiceRequest) -> QuerySet[Attachment]:
    if not involved(actor, request):
        raise PermissionDenied(_("Only those involved in this request may see its files."))
    return request.attachments.all()


@transaction.atomic
def attachment_add(*, actor: User, request: ServiceRequest, upload: UploadedFile) -> Attachment:
    """Keep a photo (JPEG, PNG) or a PDF with the request."""
    if not involved(actor, request):
        raise PermissionDenied(_("Only those involved in this request may add files to it."))
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    errors: list[str] = []
    kind = sniff(_head(upload))
    if request.state in FINISHED:
        errors.append(_("This request is finished: no more files."))
    elif request.attachments.count() >= MAX_PER_REQUEST:
        errors.append(_("At most %(count)s files a request.") % {"count": MAX_PER_REQUEST})
    if (upload.size or 0) > max_bytes():
        errors.append(_("At most %(mb)s MB a file.") % {"mb": round(max_bytes() / 1024 / 1024, 1)})
    elif not kind:
        errors.append(_("Send a photo (JPEG or PNG) or a PDF."))
    if errors:
        raise ValidationFailed(fields={"file": errors})
    return Attachment.objects.create(
        request=request,
        file=upload,
        name=(upload.name or "file")[:255],
        content_type=kind,
        size=upload.size or 0,
        uploaded_by=actor,
    )
