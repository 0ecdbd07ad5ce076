"""Pages of service requests.

A resident (or their proxy) asks for help in three taps and follows "my requests";
a community worker dispatches from the board and takes requests by phone; a
responder works through "my tasks" on a phone; an official reads the counts.
Views parse, call a selector or a service, and render: who sees what comes from
`selectors`, every change goes through `services`, and their refusals come back as
ValidationFailed (at the field), PermissionDenied (403) or Conflict (409, someone
else was first). Pages with personal data are never cached.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import Scope, staff_organizations, user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.forms import add_service_errors
from linli.residents.models import Resident
from linli.residents.selectors import LIST_ROLES, residents_acted_for, residents_kept_by

from .attachments import attachments_for
from .choices import OPEN_STATES, Action, ResponderStatus, State, allowed_actions
from .dispatch import Candidate, candidates_for, dispatch_round, explanation_text
from .forms import (
    WHEN_PICK,
    ActionForm,
    AskForm,
    AssignForm,
    PhoneRequestForm,
    PickWhenForm,
    When,
    quick_when,
    service_groups,
    when_choices,
)
from .models import DispatchRound, RequestEvent, Responder, ServiceRequest
from .selectors import (
    dispatch_queue,
    request_counts,
    requests_visible_to,
    task_view,
    tasks_of,
)
from .services import (
    is_keeper,
    is_responder,
    is_served,
    may_act,
    open_tasks,
    request_assign,
    request_create,
    request_transition,
    service_term,
)

REQUESTS_PER_PAGE = 10
QUEUE_PER_PAGE = 25
RECENT_TASKS = 5
PEOPLE_FOUND = 20

# Who may do what from which page: a resident's page offers only a resident's steps.
SERVED_ACTIONS = (Action.CONFIRM, Action.CANCEL, Action.REOPEN)
RESPONDER_ACTIONS = (Action.ACCEPT, Action.DECLINE, Action.START, Action.COMPLETE)
KEEPER_ACTIONS = (Action.CONFIRM, Action.CANCEL, Action.REOPEN, Action.REJECT, Action.CLOSE)
# Steps that ask for words: a reason (required by the service) or a note (optional).
REASON_ACTIONS = (Action.DECLINE, Action.REJECT, Action.REOPEN)
NOTE_ACTIONS = (Action.COMPLETE,)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _forbidden(message: str = "") -> DjangoPermissionDenied:
    """The site's 403 page."""
    return DjangoPermissionDenied(message)


def _keeper_scope(user: User) -> Scope:
    return user_scope(user, roles=RESIDENT_KEEPER_ROLES)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Words --------------------------------------------------------------------------------

# "Why is this first": the parts of the priority score, as a dispatcher reads them.
BREAKDOWN_LABELS: dict[str, Promise] = {
    "urgency": gettext_lazy("Urgency"),
    "elderly_living_alone": gettext_lazy("Older person living alone"),
    "oldest": gettext_lazy("Aged 80 or more"),
    "disabled": gettext_lazy("Disability"),
    "severe_disability": gettext_lazy("Severe disability (grade 1 or 2)"),
    "family_in_difficulty": gettext_lazy("Family in difficulty"),
    "elderly": gettext_lazy("Older person (60+)"),
    "minor": gettext_lazy("Minor (under 18)"),
    "left_behind": gettext_lazy("Left behind"),
    "child_left_behind": gettext_lazy("Child left behind"),
    "waiting": gettext_lazy("Hours waiting"),
}

# The timeline in plain words: what happened, not the state machine's names.
EVENT_WORDS: dict[str, Promise] = {
    Action.SUBMIT: gettext_lazy("Asked for help"),
    Action.TRIAGE: gettext_lazy("Waiting for a helper"),
    Action.ASSIGN: gettext_lazy("Given to %(name)s"),
    Action.ACCEPT: gettext_lazy("The helper said yes"),
    Action.DECLINE: gettext_lazy("The helper cannot come: finding another"),
    Action.START: gettext_lazy("The helper started"),
    Action.COMPLETE: gettext_lazy("The helper says it is done"),
    Action.CONFIRM: gettext_lazy("Confirmed: it is done"),
    Action.CLOSE: pgettext_lazy("request", "Closed"),
    Action.CANCEL: gettext_lazy("Cancelled"),
    Action.REJECT: gettext_lazy("Turned down"),
    Action.REOPEN: gettext_lazy("Opened again"),
}

# The button of each step, in the words of the person tapping it.
ACTION_BUTTONS: dict[str, Promise] = {
    Action.CONFIRM: gettext_lazy("Yes, it is done"),
    Action.CANCEL: gettext_lazy("Cancel this request"),
    Action.REOPEN: gettext_lazy("Not done? Open it again"),
    Action.ACCEPT: gettext_lazy("Yes, I will go"),
    Action.DECLINE: gettext_lazy("I cannot go"),
    Action.START: gettext_lazy("I am starting now"),
    Action.COMPLETE: gettext_lazy("It is done"),
    Action.REJECT: gettext_lazy("Turn it down"),
    Action.CLOSE: gettext_lazy("Close it"),
}

ACTOR_LABELS: dict[str, Promise] = {
    "system": gettext_lazy("Linli"),
    "dispatch": gettext_lazy("Linli's dispatch round"),
}


def breakdown_rows(parts: dict[str, int]) -> list[tuple[str, int]]:
    """The parts of a priority, biggest first, each with its label."""
    return [
        (str(BREAKDOWN_LABELS.get(key, key)), points)
        for key, points in sorted(parts.items(), key=lambda item: (-item[1], item[0]))
    ]


def duration_words(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days >= 2:
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if days or hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": days * 24 + hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


@dataclass
class Countdown:
    at: dt.datetime
    text: str
    overdue: bool


def countdown(deadline: dt.datetime | None, now: dt.datetime) -> Countdown | None:
    """Time left to a deadline, or how late it is."""
    if deadline is None:
        return None
    seconds = (deadline - now).total_seconds()
    if seconds < 0:
        return Countdown(deadline, _("late by %(time)s") % {"time": duration_words(seconds)}, True)
    return Countdown(deadline, _("%(time)s left") % {"time": duration_words(seconds)}, False)


def _who(event: RequestEvent) -> str:
    if event.actor is not None:
        return event.actor.display_name
    label = event.actor_label
    if label.startswith("open311:"):
        return label.split(":", 1)[1]
    return str(ACTOR_LABELS.get(label, label or ACTOR_LABELS["system"]))


def timelines(
    requests: list[ServiceRequest], *, decline_reasons: bool
) -> dict[int, list[dict[str, Any]]]:
    """Every request's events in plain words, oldest first, in two queries.

    A responder's reason for declining is for the dispatcher; the resident reads only
    that another helper is being found."""
    events = list(
        RequestEvent.objects.filter(request__in=[r.pk for r in requests])
        .select_related("actor")
        .order_by("at", "id")
    )
    responder_ids = {
        e.data.get("responder") for e in events if isinstance(e.data.get("responder"), int)
    }
    names = dict(Responder.objects.filter(pk__in=responder_ids).values_list("pk", "name"))
    result: dict[int, list[dict[str, Any]]] = {r.pk: [] for r in requests}
    for event in events:
        words = str(EVENT_WORDS.get(event.action, event.action))
        if event.action == Action.ASSIGN:
            words = words % {"name": names.get(event.data.get("responder"), "?")}
        show_reason = decline_reasons or event.action != Action.DECLINE
        result[event.request_id].append(
            {
                "at": event.at,
                "action": event.action,
                "words": words,
                "who": _who(event),
                "reason": event.reason if show_reason else "",
                "state": State(event.to_state).label if event.to_state else "",
            }
        )
    return result


# Steps a viewer may take ---------------------------------------------------------------


@dataclass
class Step:
    action: str
    label: str
    reason: bool = False
    note: bool = False
    outcome: bool = False
    form: ActionForm | None = None


@dataclass
class Failed:
    """A step refused by a service, shown again at the request it was about."""

    public_id: str
    form: ActionForm
    action: str


def steps_for(
    user: User, request: ServiceRequest, among: tuple[str, ...], failed: Failed | None = None
) -> list[Step]:
    """The steps the transition map allows now and the service would let `user` take."""
    steps = []
    for action in allowed_actions(request.state):
        if action not in among or not may_act(user, request, action):
            continue
        form = None
        if failed and failed.public_id == request.public_id and failed.action == action:
            form = failed.form
        steps.append(
            Step(
                action=str(action),
                label=str(ACTION_BUTTONS.get(action, action)),
                reason=action in REASON_ACTIONS,
                note=action in NOTE_ACTIONS,
                outcome=action == Action.CLOSE,
                form=form,
            )
        )
    return steps


def _transition(user: User, request: ServiceRequest, form: ActionForm) -> int | None:
    """Take the step; None when done, else the status to answer with (the refusal is
    put on the form)."""
    data = form.cleaned_data
    try:
        request_transition(
            actor=user,
            request=request,
            action=data["action"],
            reason=data.get("reason") or "",
            outcome=data.get("outcome") or "",
        )
    except ValidationFailed as error:
        add_service_errors(form, error)
        return 400
    except PermissionDenied as error:
        form.add_error(None, error.message)
        return 403
    except Conflict as error:
        form.add_error(None, error.message)
        return 409
    return None


def _step_done_message(action: str) -> str:
    words: dict[str, str] = {
        Action.CONFIRM: _("Thank you. The request is confirmed as done."),
        Action.CANCEL: _("The request is cancelled."),
        Action.REOPEN: _("The request is open again. A helper will be found."),
        Action.ACCEPT: _("You accepted the task. The address and phone are shown now."),
        Action.DECLINE: _("You declined the task. It goes back to the dispatcher."),
        Action.START: _("Started. Tap “It is done” when you finish."),
        Action.COMPLETE: _("Done. The resident is asked to confirm."),
        Action.REJECT: _("The request is turned down."),
        Action.CLOSE: _("The request is closed."),
    }
    return str(words.get(action, _("Saved.")))


# Asking for help: three taps --------------------------------------------------------------


def _people(user: User) -> list[Resident]:
    """The person themselves first, then those they act for."""
    return list(residents_acted_for(user).select_related("community"))


def _no_record(request: HttpRequest, user: User) -> HttpResponse:
    """Someone with no record to ask for: keepers take calls on the board instead."""
    if not _keeper_scope(user).is_empty:
        return redirect("requests:call")
    return render(request, "requests/ask_none.html", status=403)


@never_cache
@login_required
@require_GET
def ask_service(request: HttpRequest) -> HttpResponse:
    """Tap 1: what help. Big buttons, grouped by the plan's fields; a search box too."""
    user = _user(request)
    if not _people(user):
        return _no_record(request, user)
    return _render_ask_service(request)


def _render_ask_service(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    groups = service_groups()
    if query:
        needle = query.lower()
        groups = [
            (top, [t for t in children if needle in f"{t.name} {t.name_en}".lower()])
            for top, children in groups
        ]
        groups = [(top, children) for top, children in groups if children]
    return render(
        request,
        "requests/ask_service.html",
        {"groups": groups, "query": query, "error": error},
        status=status,
    )


def _term_or_none(code: str) -> Any:
    return service_term(code) if code else None


@never_cache
@login_required
@require_GET
def ask_when(request: HttpRequest) -> HttpResponse:
    """Tap 2: when, in plain words; or pick a day and time."""
    user = _user(request)
    if not _people(user):
        return _no_record(request, user)
    term = _term_or_none(request.GET.get("service", ""))
    if term is None:
        return _render_ask_service(request, _("Choose a service first."), status=400)
    return _render_ask_when(request, term, PickWhenForm())


def _render_ask_when(
    request: HttpRequest, term: Any, pick: PickWhenForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "requests/ask_when.html",
        {
            "term": term,
            "choices": [(code, label) for code, label in when_choices() if code != WHEN_PICK],
            "pick": pick,
            "pick_code": WHEN_PICK,
        },
        status=status,
    )


def _when_words(code: str, chosen: When | None) -> str:
    """The chosen time as the resident said it."""
    labels = dict(when_choices())
    if code != WHEN_PICK or chosen is None or chosen.window_start is None:
        return labels.get(code, "")
    start = timezone.localtime(chosen.window_start)
    end = timezone.localtime(chosen.window_end) if chosen.window_end else None
    text = f"{start:%Y-%m-%d %H:%M}"
    if end is not None:
        text += f"–{end:%H:%M}"
    return text


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ask_confirm(request: HttpRequest) -> HttpResponse:
    """Tap 3: check who it is for and where, and send."""
    user = _user(request)
    people = _people(user)
    if not people:
        return _no_record(request, user)
    source = request.POST if request.method == "POST" else request.GET
    term = _term_or_none(source.get("service", ""))
    if term is None and request.method == "GET":
        return _render_ask_service(request, _("Choose a service first."), status=400)
    code = source.get("when", "")
    if request.method == "GET":
        if code not in dict(when_choices()):
            return _render_ask_when(request, term, PickWhenForm(), status=400)
        if code == WHEN_PICK:
            pick = PickWhenForm(request.GET)
            if not pick.is_valid():
                return _render_ask_when(request, term, pick, status=400)
        form = AskForm(
            people=people,
            user_id=user.pk,
            initial={k: source.get(k, "") for k in ("service", "when", "date", "start", "end")}
            | {"urgency": source.get("urgency", "")},
        )
        return _render_confirm(request, form, term, code)
    form = AskForm(request.POST, people=people, user_id=user.pk)
    if form.is_valid():
        try:
            created = request_create(actor=user, data=form.to_input())
        except ValidationFailed as error:
            add_service_errors(
                form,
                error,
                rename={
                    "window_end": "when",
                    "window_start": "when",
                    "latitude": "address",
                    "community": "address",
                },
            )
        except PermissionDenied as error:
            form.add_error(None, error.message)
            return _render_confirm(request, form, term, code, status=403)
        else:
            messages.success(
                request,
                _("Sent. Your request number is %(id)s. We will tell you who is coming.")
                % {"id": created.public_id},
            )
            return HttpResponseRedirect(f"{reverse('requests:mine')}#request-{created.public_id}")
    return _render_confirm(request, form, term, code, status=400)


def _render_confirm(
    request: HttpRequest, form: AskForm, term: Any, code: str, status: int = 200
) -> HttpResponse:
    chosen: When | None = None
    if form.is_bound and hasattr(form, "cleaned_data"):
        chosen = form.cleaned_data.get("chosen")
    elif code == WHEN_PICK:
        pick = PickWhenForm(request.GET)
        chosen = pick.when() if pick.is_valid() else None
    elif code:
        chosen = quick_when(code, timezone.now())
    return render(
        request,
        "requests/ask_confirm.html",
        {
            "form": form,
            "term": term,
            "when_words": _when_words(code, chosen),
            "urgency": chosen.urgency if chosen else "",
            "people": list(form.people.values()),
            "several": len(form.people) > 1,
            "when_url": f"{reverse('requests:ask_when')}?service={term.code if term else ''}",
        },
        status=status,
    )


# My requests and a request's page ---------------------------------------------------------


def _served_requests(user: User) -> QuerySet[ServiceRequest]:
    people = residents_acted_for(user).values("pk")
    return (
        requests_visible_to(user)
        .filter(Q(requested_by=user) | Q(person__in=people))
        .select_related("service", "person", "responder", "community")
        .order_by("-created_at", "-id")
    )


def _request_card(
    user: User,
    request: ServiceRequest,
    events: list[dict[str, Any]],
    now: dt.datetime,
    among: tuple[str, ...],
    failed: Failed | None = None,
) -> dict[str, Any]:
    return {
        "request": request,
        "events": events,
        "steps": steps_for(user, request, among, failed),
        "respond": countdown(request.respond_by, now)
        if request.state in (State.TRIAGED, State.ASSIGNED)
        else None,
        "due": countdown(request.due_at, now) if request.state in OPEN_STATES else None,
        "failed": failed.form if failed and failed.public_id == request.public_id else None,
    }


def _render_mine(
    request: HttpRequest, failed: Failed | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    page = Paginator(_served_requests(user), REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    requests = list(page.object_list)
    events = timelines(requests, decline_reasons=False)
    now = timezone.now()
    return render(
        request,
        "requests/mine.html",
        {
            "page": page,
            "cards": [
                _request_card(user, r, events[r.pk], now, SERVED_ACTIONS, failed) for r in requests
            ],
            "several": residents_acted_for(user).count() > 1,
            "may_ask": bool(_people(user)),
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    return _render_mine(request)


def _visible_request(user: User, public_id: str) -> ServiceRequest:
    found = (
        requests_visible_to(user)
        .filter(public_id=public_id)
        .select_related("service", "person", "responder", "community", "requested_by")
        .first()
    )
    if found is None:
        raise Http404(_("No such request for you."))
    return found


def viewer_role(user: User, request: ServiceRequest) -> str:
    """How much of a request the viewer sees: all (keeper), their own (served), the task
    (responder, now or before), or the figures without the person (official)."""
    if is_keeper(user, request):
        return "keeper"
    if is_served(user, request):
        return "served"
    if (
        is_responder(user, request.responder)
        or request.assignments.filter(
            Q(responder__user=user) | Q(responder__organization__in=staff_organizations(user))
        ).exists()
    ):
        return "responder"
    return "official"


def _render_detail(
    request: HttpRequest, found: ServiceRequest, failed: Failed | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    role = viewer_role(user, found)
    now = timezone.now()
    among: tuple[str, ...] = ()
    context: dict[str, Any] = {"role": role, "found": found}
    if role == "keeper":
        among = KEEPER_ACTIONS
        context["breakdown"] = breakdown_rows(found.priority_breakdown)
        context["assignments"] = [
            {
                "assignment": a,
                "why": explanation_words(
                    a.explanation, a.assigned_by.display_name if a.assigned_by else ""
                ),
            }
            for a in found.assignments.select_related("responder", "assigned_by", "round")
        ]
    elif role == "served":
        among = SERVED_ACTIONS
    elif role == "responder":
        among = RESPONDER_ACTIONS
        context["task"] = task_view(found, viewer=user)
    if role in ("keeper", "served", "responder"):
        context["attachments"] = attachments_for(user, found)
    events = timelines([found], decline_reasons=role == "keeper")[found.pk]
    # A responder sees the task and no one else's words; an official sees the steps
    # without who took them or why, which may name or describe the person.
    if role == "responder":
        events = []
    elif role == "official":
        events = [event | {"who": "", "reason": ""} for event in events]
    context["card"] = _request_card(user, found, events, now, among, failed)
    return render(request, "requests/detail.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A request's page; a POST takes one step (confirm, cancel, reopen, close…)."""
    user = _user(request)
    found = _visible_request(user, public_id)
    if request.method == "GET":
        return _render_detail(request, found)
    form = ActionForm(request.POST)
    action = request.POST.get("action", "")
    if form.is_valid():
        status = _transition(user, found, form)
        if status is None:
            messages.success(request, _step_done_message(form.cleaned_data["action"]))
            default = reverse("requests:detail", kwargs={"public_id": found.public_id})
            return HttpResponseRedirect(_next_url(request, default))
    else:
        status = 400
    found = _visible_request(user, public_id)
    return _render_detail(request, found, Failed(found.public_id, form, action), status=status)


# Counts for officials -----------------------------------------------------------------


@never_cache
@login_required
@require_GET
def counts_page(request: HttpRequest) -> HttpResponse:
    """Open, overdue and escalated requests per community of the viewer's area."""
    user = _user(request)
    if user_scope(user, roles=LIST_ROLES).is_empty:
        raise _forbidden()
    counts = request_counts(user=user)
    regions = Region.objects.filter(code__in=list(counts)).select_related("parent")
    rows: list[dict[str, Any]] = [
        {"region": region, **counts[region.code]}
        for region in sorted(regions, key=lambda r: r.code)
    ]
    totals = {key: sum(row[key] for row in rows) for key in ("open", "overdue", "escalated")}
    return render(
        request, "requests/counts.html", {"rows": rows, "totals": totals, "now": timezone.now()}
    )


# A responder's tasks ------------------------------------------------------------------


def _render_tasks(
    request: HttpRequest, failed: Failed | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    held = list(
        tasks_of(user)
        .select_related("service", "person", "community", "responder")
        .order_by("due_at", "id")
    )
    tasks = []
    for task in held:
        card = _request_card(user, task, [], now, RESPONDER_ACTIONS, failed)
        # Read here, once per showing: reading an accepted task's phone is logged.
        card["view"] = task_view(task, viewer=user)
        card["community"] = task.community.display_name
        tasks.append(card)
    done = (
        requests_visible_to(user)
        .filter(
            Q(assignments__responder__user=user)
            | Q(assignments__responder__organization__in=staff_organizations(user)),
            state__in=(State.COMPLETED, State.CONFIRMED, State.CLOSED),
        )
        .select_related("service", "community")
        .order_by("-completed_at", "-id")[:RECENT_TASKS]
    )
    responder = Responder.objects.filter(user=user).first()
    return render(
        request,
        "requests/tasks.html",
        {
            "tasks": tasks,
            "done": list(done),
            "responder": responder,
            "load": open_tasks(responder) if responder else 0,
            "paused": responder is not None and responder.status != ResponderStatus.ACTIVE,
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def tasks_page(request: HttpRequest) -> HttpResponse:
    return _render_tasks(request)


@never_cache
@login_required
@require_POST
def task_step(request: HttpRequest, public_id: str) -> HttpResponse:
    """Accept, decline (with a reason), start, complete (with a note)."""
    user = _user(request)
    task = (
        tasks_of(user)
        .filter(public_id=public_id)
        .select_related("service", "person", "responder")
        .first()
    )
    if task is None:
        raise Http404(_("This is not one of your tasks now."))
    form = ActionForm(request.POST)
    action = request.POST.get("action", "")
    status: int | None = 400
    if form.is_valid():
        if form.cleaned_data["action"] not in RESPONDER_ACTIONS:
            form.add_error("action", _("This step is not taken here."))
        else:
            status = _transition(user, task, form)
    if status is None:
        messages.success(request, _step_done_message(form.cleaned_data["action"]))
        return HttpResponseRedirect(f"{reverse('requests:tasks')}#task-{task.public_id}")
    return _render_tasks(request, Failed(task.public_id, form, action), status=status)


# The dispatch board -------------------------------------------------------------------------

# The parts of a candidate's cost (kilometre-equivalents), as the dispatcher reads them.
COST_LABELS: dict[str, Promise] = {
    "distance": gettext_lazy("distance"),
    "load": gettext_lazy("open tasks"),
    "rating": gettext_lazy("rating"),
}
# How many candidates an assignment made on the board keeps in its explanation.
EXPLAIN_TOP = 5


def candidate_label(candidate: Candidate) -> str:
    """One line per candidate in the board's select: who, how far, how busy, how rated."""
    parts = [
        candidate.responder.name,
        _("%(km).1f km") % {"km": candidate.distance_km},
        ngettext("%(n)s open task", "%(n)s open tasks", candidate.load) % {"n": candidate.load},
    ]
    if candidate.rating is not None:
        parts.append(_("rated %(r).1f") % {"r": candidate.rating})
    return " · ".join(parts)


def cost_words(candidate: Candidate) -> str:
    """Why a candidate ranks where it does: the parts of its cost, lower is better."""
    parts = [f"{COST_LABELS.get(key, key)} {value:.2f}" for key, value in candidate.reasons.items()]
    return _("cost %(cost).2f (%(parts)s)") % {"cost": candidate.cost, "parts": ", ".join(parts)}


def _board_entry(candidate: Candidate) -> dict[str, Any]:
    return {
        "responder": candidate.responder_id,
        "name": candidate.responder.name,
        "cost": candidate.cost,
        "distance_km": candidate.distance_km,
        "load": candidate.load,
        "rating": candidate.rating,
        "reasons": candidate.reasons,
    }


def board_explanation(
    request: ServiceRequest, choices: list[Candidate], chosen: Candidate, user: User
) -> dict[str, Any]:
    """Why the worker's pick went as it did, in the shape dispatch rounds write."""
    rank = choices.index(chosen) + 1
    shown = choices[:EXPLAIN_TOP] + ([chosen] if rank > EXPLAIN_TOP else [])
    return {
        "method": "board",
        "round": None,
        "priority": request.priority,
        "considered": len(choices),
        "candidates": [_board_entry(c) for c in shown],
        "winner": {**_board_entry(chosen), "rank": rank},
        "why": "board",
        "chosen_by": user.get_username(),
        "taken": [],
    }


def explanation_words(explanation: dict[str, Any], chosen_by: str = "") -> str:
    """An assignment's explanation in a sentence."""
    if not explanation:
        return ""
    if explanation.get("why") == "board":
        winner = explanation.get("winner") or {}
        return _(
            "Chosen on the dispatch board by %(who)s: number %(rank)s of %(count)s "
            "candidates, %(km)s km away."
        ) % {
            "who": chosen_by or explanation.get("chosen_by", "?"),
            "rank": winner.get("rank", "?"),
            "count": explanation.get("considered", "?"),
            "km": winner.get("distance_km", "?"),
        }
    if "winner" in explanation:
        return explanation_text(explanation)
    return str(explanation.get("why", ""))


def _assign_form(request: ServiceRequest, choices: list[Candidate], data: Any = None) -> AssignForm:
    return AssignForm(
        data,
        candidates=[(c.responder_id, candidate_label(c)) for c in choices],
        initial={"reassign": request.state == State.ASSIGNED},
        auto_id=f"id_{request.public_id}_%s",
    )


def _render_board(
    request: HttpRequest,
    failed: tuple[str, AssignForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    page = Paginator(dispatch_queue(user=user), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for item in page.object_list:
        choices = candidates_for(item, now=now)
        form = failed[1] if failed and failed[0] == item.public_id else _assign_form(item, choices)
        rows.append(
            {
                "request": item,
                "breakdown": breakdown_rows(item.priority_breakdown),
                "respond": countdown(item.respond_by, now),
                "due": countdown(item.due_at, now),
                "choices": [
                    {"candidate": c, "label": candidate_label(c), "why": cost_words(c)}
                    for c in choices
                ],
                "form": form,
            }
        )
    return render(
        request,
        "requests/board.html",
        {
            "page": page,
            "rows": rows,
            "now": now,
            "last_round": DispatchRound.objects.filter(started_by=user).first(),
        },
        status=status,
    )


def _keeper_only(user: User) -> Scope:
    scope = _keeper_scope(user)
    if scope.is_empty:
        raise _forbidden(_("Only community workers dispatch requests."))
    return scope


@never_cache
@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    _keeper_only(_user(request))
    return _render_board(request)


@never_cache
@login_required
@require_POST
def assign(request: HttpRequest, public_id: str) -> HttpResponse:
    """Give a request to a responder. If someone else gave it first, say so and reload."""
    user = _user(request)
    _keeper_only(user)
    found = dispatch_queue(user=user).filter(public_id=public_id).first()
    if found is None:
        if requests_visible_to(user).filter(public_id=public_id).exists():
            messages.error(request, _("This request no longer waits for a responder."))
            return redirect("requests:board")
        raise Http404(_("No such request in your communities."))
    choices = candidates_for(found)
    form = _assign_form(found, choices, request.POST)
    if form.is_valid():
        chosen = next(c for c in choices if c.responder_id == form.cleaned_data["responder"])
        try:
            request_assign(
                actor=user,
                request=found,
                responder=chosen.responder,
                reassign=form.cleaned_data["reassign"],
                explanation=board_explanation(found, choices, chosen, user),
            )
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("requests:board")
        except ValidationFailed as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            raise _forbidden(error.message) from error
        else:
            messages.success(
                request,
                _("%(id)s is given to %(name)s.")
                % {"id": found.public_id, "name": chosen.responder.name},
            )
            return redirect("requests:board")
    return _render_board(request, failed=(found.public_id, form), status=400)


@never_cache
@login_required
@require_POST
def dispatch_round_now(request: HttpRequest) -> HttpResponse:
    """Solve the assignment of every waiting request of the worker's communities at once:
    the round itself keeps to the actor's communities."""
    user = _user(request)
    _keeper_only(user)
    result = dispatch_round(actor=user)
    messages.success(
        request,
        _("Dispatch round done: %(assigned)s of %(considered)s waiting requests assigned.")
        % {"assigned": result.assigned, "considered": result.requests_considered},
    )
    return redirect("requests:board")


# A request taken by phone --------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def call(request: HttpRequest) -> HttpResponse:
    """A community worker takes a call: find the resident by name, or note who called."""
    user = _user(request)
    scope = _keeper_only(user)
    kept = residents_kept_by(user)
    find = (request.POST.get("find") or request.GET.get("find") or "").strip()[:50]
    people: list[Resident] = []
    if find:
        people = list(kept.filter(name__contains=find).order_by("name", "id")[:PEOPLE_FOUND])
    posted = request.POST.get("person", "")
    if posted.isdigit() and not any(p.pk == int(posted) for p in people):
        people += list(kept.filter(pk=int(posted)))
    communities = list(
        Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY).order_by("code")
    )
    if request.method == "POST":
        form = PhoneRequestForm(request.POST, people=people, communities=communities)
        if form.is_valid():
            if not form.cleaned_data["person"] and not form.cleaned_data["contact_name"]:
                form.add_error("person", _("Choose a resident, or type the caller's name."))
            else:
                try:
                    created = request_create(actor=user, data=form.to_input())
                except ValidationFailed as error:
                    add_service_errors(
                        form,
                        error,
                        rename={
                            "window_end": "date",
                            "window_start": "date",
                            "latitude": "address",
                        },
                    )
                except PermissionDenied as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(
                        request,
                        _("Request %(id)s is in the queue.") % {"id": created.public_id},
                    )
                    return redirect("requests:detail", public_id=created.public_id)
    else:
        form = PhoneRequestForm(people=people, communities=communities)
    return render(
        request,
        "requests/call.html",
        {"form": form, "find": find, "found": people},
        status=400 if form.errors else 200,
    )
