"""Requests and the time bank: a confirmed request credits whoever delivered it, once;
hours are redeemed for oneself, a spouse or a relative aged 60 or over, held, then spent
when the service is confirmed or returned when it is not; pools give to residents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.directory.models import Organization
from linli.notifications.models import Notification
from linli.regions.tests.factories import region_chain
from linli.requests.choices import Action, Channel, ResponderKind, State
from linli.requests.models import RequestEvent, Responder, ServiceRequest
from linli.requests.services import RequestInput, request_assign, request_create, request_transition
from linli.requests.tests.factories import responder_create
from linli.residents.choices import RelationKind
from linli.residents.models import Relation
from linli.residents.services import ResidentInput, resident_register
from linli.volunteers.choices import AccountKind, RedemptionStatus, TransferKind
from linli.volunteers.ledger import (
    community_pool,
    earned_hours,
    person_account,
    system_account,
    timebank_credit,
    timebank_reverse,
)
from linli.volunteers.models import Account, Movement, Redemption, Transfer
from linli.volunteers.people import VolunteerInput, volunteer_register, volunteer_verify
from linli.volunteers.redemptions import (
    beneficiaries_of,
    delivered_hours,
    pool_grant,
    redemption_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def community(taxonomy):
    return region_chain("990102001001", lat=30.0, lon=120.0)


@pytest.fixture
def worker(community):
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


def resident(community, name, born, account=True):
    person = resident_register(
        actor=None, data=ResidentInput(name=name, community=community, birth_date=born)
    )
    if account:
        person.user = UserFactory.create()
        person.save()
    return person


def years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=1)


@pytest.fixture
def elder(community):
    return resident(community, "王秀英", years_ago(85))


def verified_volunteer(community, worker, name):
    person = resident(community, name, years_ago(40))
    volunteer = volunteer_register(
        actor=person.user,
        data=VolunteerInput(skills=["elderly_meals"], radius_km=Decimal("3.0")),
    )
    return volunteer_verify(actor=worker, volunteer=volunteer)


@pytest.fixture
def volunteer(community, worker):
    return verified_volunteer(community, worker, "李明")


@pytest.fixture
def helper(community, worker):
    """A second volunteer, who delivers what the first redeems."""
    return verified_volunteer(community, worker, "赵强")


@pytest.fixture
def mother(volunteer, community):
    """The volunteer's mother, 70, recorded as "张桂兰 is 李明's parent"."""
    person = resident(community, "张桂兰", years_ago(70), account=False)
    Relation.objects.create(resident=volunteer.resident, person=person, kind=RelationKind.PARENT)
    return person


def balance(account: Account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def totals() -> dict[str, Decimal]:
    """Balances by kind of account, and the sum of every movement (always zero)."""
    found = {
        kind: sum((a.balance for a in Account.objects.filter(kind=kind)), Decimal("0"))
        for kind in AccountKind.values
    }
    found["sum"] = Movement.objects.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return found


def deliver(request, responder, worker, minutes=80):
    """Assign, accept, start and complete; the work took `minutes`."""
    request = request_assign(actor=worker, request=request, responder=responder)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=responder.user, request=request, action=action)
    started = timezone.now() - dt.timedelta(minutes=minutes)
    RequestEvent.objects.filter(request=request, action=Action.START).update(at=started)
    RequestEvent.objects.filter(request=request, action=Action.COMPLETE).update(
        at=started + dt.timedelta(minutes=minutes)
    )
    return request


def ask(person, service="elderly_meals"):
    return request_create(actor=person.user, data=RequestInput(service=service, person=person))


# --- crediting delivered requests --------------------------------------------------------------


def test_a_confirmed_request_credits_the_volunteer_who_delivered_it(
    elder, volunteer, worker, django_capture_on_commit_callbacks
):
    request = deliver(ask(elder), volunteer.responder, worker, minutes=80)
    account = person_account(volunteer.user)
    assert balance(account) == Decimal("0.00")
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert balance(account) == Decimal("1.50")  # 80 minutes, up to the quarter hour
    credit = Transfer.objects.get(kind=TransferKind.REQUEST_HOURS)
    assert (credit.request_id, credit.earned_by, credit.created_by) == (
        request.pk,
        volunteer.user,
        elder.user,
    )
    assert earned_hours(volunteer.user) == Decimal("1.50")
    note = Notification.objects.get(user=volunteer.user)
    assert (note.request_id, note.link) == (request.pk, "/timebank/")
    assert totals()["sum"] == 0


def test_a_second_confirmation_after_a_reopen_credits_nothing(elder, volunteer, helper, worker):
    request = deliver(ask(elder), volunteer.responder, worker, minutes=60)
    request = request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    request = request_transition(
        actor=elder.user, request=request, action=Action.REOPEN, reason="饭菜没送全"
    )
    request = deliver(request, helper.responder, worker, minutes=30)
    request_transition(actor=worker, request=request, action=Action.CONFIRM)
    assert Transfer.objects.filter(kind=TransferKind.REQUEST_HOURS).count() == 1
    assert balance(person_account(volunteer.user)) == Decimal("1.00")
    assert earned_hours(helper.user) == Decimal("0.00")


def test_a_corrected_credit_is_credited_again_on_the_next_confirmation(elder, volunteer, worker):
    request = deliver(ask(elder), volunteer.responder, worker, minutes=60)
    request = request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    timebank_reverse(
        transfer=Transfer.objects.get(kind=TransferKind.REQUEST_HOURS),
        actor=worker,
        memo="确认有误",
    )
    request = request_transition(actor=worker, request=request, action=Action.REOPEN, reason="重做")
    request = deliver(request, volunteer.responder, worker, minutes=120)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert balance(person_account(volunteer.user)) == Decimal("2.00")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (5, Decimal("0.50")),
        (46, Decimal("1.00")),
        (60, Decimal("1.00")),
        (12 * 60, Decimal("8.00")),
    ],
)
def test_hours_are_rounded_up_to_the_quarter_within_the_bounds(
    elder, volunteer, worker, minutes, expected
):
    request = deliver(ask(elder), volunteer.responder, worker, minutes=minutes)
    assert delivered_hours(request) == expected


def test_a_volunteer_responder_that_never_registered_earns_nothing(elder, worker, community):
    bare = responder_create(community, "elderly_meals")
    request = deliver(ask(elder), bare, worker)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert not Transfer.objects.exists()


def test_an_unverified_volunteer_earns_nothing(elder, worker, community):
    """Pending volunteers get no responder from Linli; one who opened a responder profile
    some other way still earns no hours until they are verified."""
    person = resident(community, "钱进", years_ago(30))
    volunteer_register(actor=person.user, data=VolunteerInput(skills=["elderly_meals"]))
    responder = responder_create(community, "elderly_meals", user=person.user)
    request = deliver(ask(elder), responder, worker)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert not Transfer.objects.exists()
    assert earned_hours(person.user) == Decimal("0.00")


def test_paid_professionals_earn_no_hours(elder, worker, community):
    staff = responder_create(community, "elderly_meals", kind=ResponderKind.PROVIDER_STAFF)
    request = deliver(ask(elder), staff, worker)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert not Transfer.objects.exists()


def test_an_organization_earns_group_hours(elder, worker, community):
    organization = Organization.objects.create(name="邻里互助会", region=community)
    staff_user = UserFactory.create()
    RoleAssignmentFactory(
        user=staff_user, role=Role.PROVIDER_STAFF, region=None, organization=organization
    )
    responder = Responder.objects.create(
        kind=ResponderKind.ORGANIZATION,
        name="邻里互助会",
        organization=organization,
        region=community,
        latitude=30.0,
        longitude=120.0,
        radius_km=Decimal("5.0"),
    )
    request = request_assign(actor=worker, request=ask(elder), responder=responder)
    for action in (Action.ACCEPT, Action.START, Action.COMPLETE):
        request = request_transition(actor=staff_user, request=request, action=action)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    credit = Transfer.objects.get(kind=TransferKind.REQUEST_HOURS)
    assert credit.earned_by is None
    account = Account.objects.get(kind=AccountKind.ORGANIZATION, organization=organization)
    assert account.balance == Decimal("0.50")


@override_settings(LINLI_TIMEBANK_CAP_HOURS=1)
def test_hours_above_the_cap_go_to_the_community_pool(elder, volunteer, worker, community):
    request = deliver(ask(elder), volunteer.responder, worker, minutes=150)
    request_transition(actor=elder.user, request=request, action=Action.CONFIRM)
    assert balance(person_account(volunteer.user)) == Decimal("1.00")
    assert balance(community_pool(community)) == Decimal("1.50")
    assert earned_hours(volunteer.user) == Decimal("2.50")


# --- redeeming --------------------------------------------------------------------------------


def give(user, amount):
    timebank_credit(
        account=person_account(user),
        amount=Decimal(amount),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=None,
    )


def test_hours_redeemed_for_a_mother_are_held_then_spent_when_confirmed(
    volunteer, mother, helper, worker, community
):
    give(volunteer.user, 10)
    redemption = redemption_create(
        actor=volunteer.user,
        beneficiary=mother,
        service="elderly_meals",
        hours="2",
        description="每天午餐送到家",
    )
    assert (redemption.status, redemption.hours, redemption.beneficiary) == (
        RedemptionStatus.HELD,
        Decimal("2.00"),
        mother,
    )
    request = redemption.request
    assert (request.person, request.requested_by, request.channel, request.state) == (
        mother,
        volunteer.user,
        Channel.PROXY,
        State.TRIAGED,
    )
    assert request.events.get(action=Action.SUBMIT).actor_label == "timebank"
    assert redemption.hold.kind == TransferKind.REDEMPTION_HOLD
    account = person_account(volunteer.user)
    assert balance(account) == Decimal("8.00")
    assert balance(system_account(AccountKind.HELD)) == Decimal("2.00")
    request = deliver(request, helper.responder, worker, minutes=30)
    # The volunteer who asked follows the request and confirms it.
    request_transition(actor=volunteer.user, request=request, action=Action.CONFIRM)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.SETTLED
    assert redemption.settlement is not None
    assert redemption.settlement.kind == TransferKind.REDEMPTION_SETTLE
    assert balance(account) == Decimal("8.00")
    assert balance(system_account(AccountKind.HELD)) == Decimal("0.00")
    assert balance(system_account(AccountKind.SPENT)) == Decimal("2.00")
    # The helper is credited the hours the service was worth, not the half hour it took.
    assert balance(person_account(helper.user)) == Decimal("2.00")
    assert totals()["sum"] == 0


@pytest.mark.parametrize("ending", ["cancel", "reject", "close"])
def test_held_hours_come_back_when_the_service_is_not_confirmed(
    volunteer, mother, helper, worker, ending, django_capture_on_commit_callbacks
):
    give(volunteer.user, 3)
    redemption = redemption_create(
        actor=volunteer.user, beneficiary=mother, service="elderly_cleaning", hours=3
    )
    account = person_account(volunteer.user)
    assert balance(account) == Decimal("0.00")
    request = redemption.request
    with django_capture_on_commit_callbacks(execute=True):
        if ending == "cancel":
            request_transition(actor=volunteer.user, request=request, action=Action.CANCEL)
        elif ending == "reject":
            request_transition(
                actor=worker, request=request, action=Action.REJECT, reason="不在服务范围"
            )
        else:
            request = deliver(request, helper.responder, worker)
            request_transition(
                actor=worker, request=request, action=Action.CLOSE, outcome="unresolved"
            )
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.RELEASED
    assert redemption.settlement is not None
    assert redemption.settlement.kind == TransferKind.REDEMPTION_RELEASE
    assert balance(account) == Decimal("3.00")
    assert balance(system_account(AccountKind.HELD)) == Decimal("0.00")
    assert balance(system_account(AccountKind.SPENT)) == Decimal("0.00")
    assert Notification.objects.filter(user=volunteer.user, link="/timebank/").exists()
    assert not Transfer.objects.filter(kind=TransferKind.REQUEST_HOURS).exists()


def test_closing_a_confirmed_redemption_changes_nothing(volunteer, mother, helper, worker):
    give(volunteer.user, 3)
    redemption = redemption_create(
        actor=volunteer.user, beneficiary=mother, service="elderly_meals", hours=1
    )
    request = deliver(redemption.request, helper.responder, worker)
    request = request_transition(actor=volunteer.user, request=request, action=Action.CONFIRM)
    before = Transfer.objects.count()
    request_transition(actor=worker, request=request, action=Action.CLOSE, outcome="resolved")
    assert Transfer.objects.count() == before
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.SETTLED


def test_a_volunteer_redeems_for_themselves_and_a_spouse(volunteer, community):
    give(volunteer.user, 5)
    spouse = resident(community, "陈静", years_ago(38), account=False)
    Relation.objects.create(resident=spouse, person=volunteer.resident, kind=RelationKind.SPOUSE)
    own = redemption_create(
        actor=volunteer.user, beneficiary=volunteer.resident, service="elderly_meals", hours=1
    )
    assert own.request.channel == Channel.RESIDENT
    theirs = redemption_create(
        actor=volunteer.user, beneficiary=spouse, service="elderly_cleaning", hours=1
    )
    assert theirs.request.person == spouse
    assert balance(person_account(volunteer.user)) == Decimal("3.00")


def test_kinship_recorded_the_other_way_round_counts(volunteer, community):
    father = resident(community, "李国华", years_ago(72), account=False)
    # "李明 is 李国华's child" means 李国华 is 李明's parent.
    Relation.objects.create(resident=father, person=volunteer.resident, kind=RelationKind.CHILD)
    give(volunteer.user, 2)
    redemption = redemption_create(
        actor=volunteer.user, beneficiary=father, service="elderly_meals", hours=1
    )
    assert redemption.beneficiary == father
    assert [(p.name, kind) for p, kind in beneficiaries_of(volunteer.user)] == [
        ("李明", "self"),
        ("李国华", "parent"),
    ]


def refused(volunteer, beneficiary, hours=1):
    before = (Transfer.objects.count(), ServiceRequest.objects.count(), totals())
    with pytest.raises(ValidationFailed) as refusal:
        redemption_create(
            actor=volunteer.user, beneficiary=beneficiary, service="elderly_meals", hours=hours
        )
    after = (Transfer.objects.count(), ServiceRequest.objects.count(), totals())
    assert after == before  # ledger untouched, no request
    return refusal.value.fields


def test_a_neighbour_is_refused_with_the_reason(volunteer, community):
    give(volunteer.user, 5)
    neighbour = resident(community, "孙阿姨", years_ago(75), account=False)
    fields = refused(volunteer, neighbour)
    assert fields == {
        "beneficiary": [
            "孙阿姨 is not recorded as your spouse, parent, child, grandparent or grandchild: "
            "hours are spent only on yourself, your spouse, or a direct relative aged 60 or over."
        ]
    }


def test_a_parent_under_60_is_refused(volunteer, community):
    give(volunteer.user, 5)
    parent = resident(community, "李叔", years_ago(45), account=False)
    Relation.objects.create(resident=volunteer.resident, person=parent, kind=RelationKind.PARENT)
    assert refused(volunteer, parent) == {
        "beneficiary": ["李叔 is 45: hours are spent on a relative only from the age of 60."]
    }
    assert [p for p, _kind in beneficiaries_of(volunteer.user)] == [volunteer.resident]


def test_a_relative_whose_age_is_unknown_is_refused(volunteer, community):
    give(volunteer.user, 5)
    grandmother = resident(community, "奶奶", None, account=False)
    Relation.objects.create(
        resident=volunteer.resident, person=grandmother, kind=RelationKind.GRANDPARENT
    )
    assert "is not recorded" in refused(volunteer, grandmother)["beneficiary"][0]


def test_a_redemption_larger_than_the_balance_is_refused_with_the_balance(volunteer, mother):
    give(volunteer.user, "1.5")
    assert refused(volunteer, mother, hours=2) == {
        "hours": ["Your balance is 1.50 hours; this service needs 2.00."]
    }


@pytest.mark.parametrize("hours", ["0", "0.25", "9", "-1"])
def test_hours_outside_the_bounds_are_refused(volunteer, mother, hours):
    give(volunteer.user, 20)
    assert list(refused(volunteer, mother, hours=hours)) == ["hours"]


def test_someone_without_a_record_in_the_register_cannot_redeem(mother, community):
    stranger = UserFactory.create()
    with pytest.raises(ValidationFailed) as refusal:
        redemption_create(actor=stranger, beneficiary=mother, service="elderly_meals", hours=1)
    assert "not linked to a record" in refusal.value.fields["beneficiary"][0]
    assert beneficiaries_of(stranger) == []


def test_an_unknown_service_leaves_the_ledger_untouched(volunteer, mother):
    give(volunteer.user, 5)
    before = totals()
    with pytest.raises(ValidationFailed) as refusal:
        redemption_create(actor=volunteer.user, beneficiary=mother, service="teleport", hours=1)
    assert list(refusal.value.fields) == ["service"]
    assert totals() == before
    assert not Redemption.objects.exists()


# --- the community pool ----------------------------------------------------------------------


@override_settings(LINLI_TIMEBANK_CAP_HOURS=5)
def test_a_worker_grants_pool_hours_to_a_resident_who_spends_them(
    volunteer, worker, community, elder
):
    give(volunteer.user, 5)
    timebank_credit(
        account=person_account(volunteer.user),
        amount=Decimal("4"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=community,
    )
    pool = community_pool(community)
    assert balance(pool) == Decimal("4.00")
    grant = pool_grant(
        actor=worker, community=community, beneficiary=elder, amount="3", memo="困难老人助餐"
    )
    assert (grant.kind, grant.created_by, grant.memo) == (
        TransferKind.GRANT,
        worker,
        "困难老人助餐",
    )
    assert balance(pool) == Decimal("1.00")
    assert balance(person_account(elder.user)) == Decimal("3.00")
    redemption = redemption_create(
        actor=elder.user, beneficiary=elder, service="elderly_meals", hours=2
    )
    assert redemption.request.channel == Channel.RESIDENT
    assert balance(person_account(elder.user)) == Decimal("1.00")


def test_pool_grants_are_checked(volunteer, worker, community, elder, taxonomy):
    other = region_chain("990102002001")
    outsider = UserFactory.create()
    RoleAssignmentFactory(user=outsider, role=Role.COMMUNITY_WORKER, region=other)
    with pytest.raises(PermissionDenied):
        pool_grant(actor=outsider, community=community, beneficiary=elder, amount=1, memo="试试")
    with pytest.raises(PermissionDenied):
        pool_grant(actor=elder.user, community=community, beneficiary=elder, amount=1, memo="试试")
    no_account = resident(community, "周大爷", years_ago(80), account=False)
    with pytest.raises(ValidationFailed) as refusal:
        pool_grant(actor=worker, community=community, beneficiary=no_account, amount=1, memo="")
    assert sorted(refusal.value.fields) == ["beneficiary", "memo"]
    with pytest.raises(ValidationFailed) as refusal:
        pool_grant(actor=worker, community=community, beneficiary=elder, amount=1, memo="困难")
    assert "hours" in refusal.value.fields  # the pool is empty
    assert not Transfer.objects.filter(kind=TransferKind.GRANT).exists()
