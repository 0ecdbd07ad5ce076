"""The inbox page: a user's notifications, newest first, to read and mark read.

Only the user's own notifications, whatever their role: another's id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import NotFound

from .selectors import inbox_of, notification_link, notification_view, unread_count
from .services import inbox_mark_all_read, notification_mark_read

PER_PAGE = 25


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the inbox page the user came from (a local address only)."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("notifications:inbox")
    return HttpResponseRedirect(target)


@never_cache
@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(inbox_of(request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "rows": [notification_view(n) for n in page.object_list],
            "unread_only": unread_only,
            "unread": unread_count(request.user),
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404 from error
    return _back(request)


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = inbox_mark_all_read(user=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        ngettext(
            "%(count)s notification marked read.", "%(count)s notifications marked read.", count
        )
        % {"count": count},
    )
    return _back(request)


@never_cache
@login_required
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link; opening it reads it."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404 from error
    link = notification_link(notification)
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(link)
    return redirect("notifications:inbox")
