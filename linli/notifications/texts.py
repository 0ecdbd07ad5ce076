"""The words of each kind of notification, in the language of whoever reads them.

A notification keeps its kind and its params; the stored title and body are the
same words in the deployment's language (what SMS and e-mail carry). Pages and
the API call `worded()` to say it again in the reader's language. Params hold
codes (a state, an action) worded here, and names in both languages
({"zh-hans": "…", "en": "…"}); anything unknown falls back to the stored text.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.requests.choices import Action, State

from .choices import Kind

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from .models import Notification

# What the person served (and whoever asked for them) reads when their request moves.
STATUS_BODIES: dict[str, _StrPromise] = {
    Action.SUBMIT: gettext_lazy("We received request %(number)s."),
    Action.TRIAGE: gettext_lazy(
        "We received request %(number)s and are finding someone to help you."
    ),
    Action.ASSIGN: gettext_lazy("Request %(number)s has been given to %(responder)s."),
    Action.ACCEPT: gettext_lazy("%(responder)s accepted request %(number)s."),
    Action.DECLINE: gettext_lazy(
        "The responder could not take request %(number)s; we are finding someone else."
    ),
    Action.START: gettext_lazy("%(responder)s has started on request %(number)s."),
    Action.COMPLETE: gettext_lazy(
        "Request %(number)s is done. Please confirm that you received the help."
    ),
    Action.CONFIRM: gettext_lazy("Thank you for confirming that request %(number)s was done."),
    Action.CLOSE: gettext_lazy("Request %(number)s is closed."),
    Action.CANCEL: gettext_lazy("Request %(number)s was cancelled."),
    Action.REJECT: gettext_lazy("Request %(number)s was turned down."),
    Action.REOPEN: gettext_lazy("Request %(number)s was reopened; we are finding someone again."),
}


def localized(value: Any) -> str:
    """A name kept in both languages, in the active one (else the deployment's)."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    language = translation.get_language() or settings.LANGUAGE_CODE
    for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if value.get(code):
            return str(value[code])
    return next((str(text) for text in value.values() if text), "")


def in_languages(names: dict[str, str]) -> dict[str, str]:
    """{"zh-hans": name, "en": name_en}, keeping only the names that exist."""
    return {code: name for code, name in names.items() if name}


def in_every_language(text: Any) -> dict[str, str]:
    """A label (a lazy text, a state's label) said in each of the site's languages, for
    the values of a message: the reader sees it in theirs (`localized`)."""
    words: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words[code] = str(text)
    return words


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, dt.datetime):
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _request_status(params: dict[str, Any]) -> tuple[str, str]:
    values = {
        "number": params["number"],
        "responder": localized(params.get("responder")) or _("a responder"),
    }
    title = _("Request %(number)s: %(state)s") % {
        "number": params["number"],
        "state": State(params["state"]).label,
    }
    body = str(STATUS_BODIES[Action(params["action"])]) % values
    if params.get("reason"):
        body += " " + _("Reason: %(reason)s") % {"reason": params["reason"]}
    return title, body


def _request_assigned(params: dict[str, Any]) -> tuple[str, str]:
    values = {
        "number": params["number"],
        "service": localized(params.get("service")),
        "community": localized(params.get("community")),
    }
    title = _("New task %(number)s") % values
    body = (
        _(
            "You have been given request %(number)s (%(service)s) in %(community)s. "
            "Accept or decline it in your tasks."
        )
        % values
    )
    return title, body


# What a responder reads when a request they held is taken from them.
WITHDRAWN_BODIES: dict[str, _StrPromise] = {
    Action.CANCEL: gettext_lazy("Request %(number)s was cancelled: you need not go."),
    Action.REJECT: gettext_lazy("Request %(number)s was turned down: you need not go."),
    Action.ASSIGN: gettext_lazy("Request %(number)s was given to someone else: you need not go."),
}


def _request_withdrawn(params: dict[str, Any]) -> tuple[str, str]:
    title = _("Task %(number)s withdrawn") % {"number": params["number"]}
    body = str(WITHDRAWN_BODIES[Action(params["action"])]) % {"number": params["number"]}
    if params.get("reason"):
        body += " " + _("Reason: %(reason)s") % {"reason": params["reason"]}
    return title, body


def _escalation(params: dict[str, Any]) -> tuple[str, str]:
    values = {
        "number": params["number"],
        "community": localized(params.get("community")),
        "due": _when(params.get("due")),
    }
    title = _("Overdue: request %(number)s") % values
    if params["deadline"] == "respond":
        body = (
            _(
                "Request %(number)s in %(community)s was not accepted in time "
                "(due by %(due)s). Please see that someone takes it."
            )
            % values
        )
    else:
        body = (
            _(
                "Request %(number)s in %(community)s was not completed in time "
                "(due by %(due)s). Please follow it up."
            )
            % values
        )
    if int(params.get("level", 1)) >= 2:
        body += " " + _("The community was alerted and it is still overdue.")
    return title, body


def _message(params: dict[str, Any]) -> tuple[str, str]:
    """A message sent with `notify_text`: its title and body are msgids, translated for
    the reader now, and its values are filled in (names in both languages localized)."""
    values = {name: localized(value) for name, value in params.get("values", {}).items()}
    title, body = _(params["title"]), _(params["body"])
    if not values:
        return title, body
    return title % values, body % values


WORDERS = {
    Kind.MESSAGE: _message,
    Kind.REQUEST_STATUS: _request_status,
    Kind.REQUEST_ASSIGNED: _request_assigned,
    Kind.REQUEST_WITHDRAWN: _request_withdrawn,
    Kind.ESCALATION: _escalation,
}


def word(kind: str, params: dict[str, Any]) -> tuple[str, str] | None:
    """(title, body) of a kind in the active language; None when the params do not fit."""
    worder = WORDERS.get(Kind(kind)) if kind in Kind.values else None
    if worder is None:
        return None
    try:
        return worder(params)
    except (KeyError, ValueError, TypeError):
        return None


def word_for_deployment(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """The words stored with the notification: in the deployment's language."""
    with translation.override(settings.LANGUAGE_CODE):
        worded = word(kind, params)
    if worded is None:
        raise ValueError(f"Notification params do not fit kind {kind}: {params}")
    return worded


def worded(notification: Notification) -> tuple[str, str]:
    """(title, body) for the reader, in the active language."""
    return word(notification.kind, notification.params or {}) or (
        notification.title,
        notification.body,
    )
