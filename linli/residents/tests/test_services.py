"""The register protects what it knows: checks, encryption, masks, logs, anonymization."""

import datetime as dt

import pytest
from click.testing import CliRunner
from django.db import connection

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.core.errors import PermissionDenied, ValidationFailed
from linli.core.pii import identity_check_character
from linli.core.registry import discover, linli_group
from linli.regions.tests.factories import region_chain
from linli.residents.models import AccessEvent, Resident
from linli.residents.selectors import priority_counts, resident_masked, residents_visible_to
from linli.residents.services import (
    ResidentInput,
    consent_record,
    resident_register,
    resident_unmask,
)

pytestmark = pytest.mark.django_db


def identity(born: str, serial: str = "123") -> str:
    first17 = "990102" + born + serial
    return first17 + identity_check_character(first17)


@pytest.fixture
def community():
    return region_chain("990102001001")


@pytest.fixture
def worker(community):
    user = UserFactory(username="worker")
    RoleAssignmentFactory(user=user, role=Role.COMMUNITY_WORKER, region=community)
    return user


def register(worker, community, **fields):
    return resident_register(
        actor=worker,
        data=ResidentInput(name=fields.pop("name", "王秀英"), community=community, **fields),
    )


def test_birth_date_and_sex_come_from_the_identity_number(worker, community):
    resident = register(worker, community, identity_number=identity("19500101", "124"))
    assert resident.birth_date == dt.date(1950, 1, 1)
    assert resident.birth_year == 1950
    assert resident.sex == "female"
    assert resident.is_elderly
    assert not resident.is_minor


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"identity_number": "990102195001011230"}, "identity_number"),
        ({"identity_number": identity("19501301")}, "identity_number"),
        ({"phone": "12812345678"}, "phone"),
        ({"disability_category": "visual"}, "disability_grade"),
        ({"disability_category": "visual", "disability_grade": "5"}, "disability_grade"),
        ({"difficulty": "rich"}, "difficulty"),
        ({"name": " "}, "name"),
        ({"birth_date": dt.date(2999, 1, 1)}, "birth_date"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(
    worker, community, fields, field
):
    with pytest.raises(ValidationFailed) as refused:
        register(worker, community, **fields)
    assert field in refused.value.fields
    assert not Resident.objects.exists()


def test_a_duplicate_identity_number_points_to_the_existing_record(worker, community):
    first = register(worker, community, identity_number=identity("19500101"))
    with pytest.raises(ValidationFailed) as refused:
        register(worker, community, name="李四", identity_number=identity("19500101"))
    assert f"no. {first.pk}" in refused.value.fields["identity_number"][0]


def test_a_duplicate_elsewhere_is_refused_without_saying_where(worker, community):
    other = region_chain("990102002001")
    resident_register(
        actor=None,
        data=ResidentInput(name="张三", community=other, identity_number=identity("19500101")),
    )
    with pytest.raises(ValidationFailed) as refused:
        register(worker, community, identity_number=identity("19500101"))
    assert "another community" in refused.value.fields["identity_number"][0]


def test_a_child_under_14_needs_a_guardians_consent_beyond_registration(worker, community):
    child = identity("20200101")
    with pytest.raises(ValidationFailed) as refused:
        register(worker, community, identity_number=child, health_notes="哮喘")
    assert "guardian" in refused.value.fields["health_notes"][0]
    registered = register(worker, community, identity_number=child)
    assert registered.is_minor


def test_roles_that_do_not_keep_the_register_cannot_write(community):
    official = UserFactory.create()
    RoleAssignmentFactory(user=official, role=Role.STREET_OFFICIAL, region=community.parent)
    with pytest.raises(PermissionDenied):
        register(official, community)
    elsewhere = region_chain("990102002001")
    worker = UserFactory.create()
    RoleAssignmentFactory(user=worker, role=Role.COMMUNITY_WORKER, region=community)
    with pytest.raises(ValidationFailed) as refused:
        register(worker, elsewhere)
    assert "community" in refused.value.fields


def test_no_sensitive_value_is_stored_in_clear(worker, community):
    number, phone = identity("19500101"), "13812345678"
    register(
        worker,
        community,
        identity_number=number,
        phone=phone,
        health_notes="糖尿病",
        disability_category="visual",
        disability_grade="2",
        difficulty="subsistence",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity_number, phone, health_notes, disability_category, difficulty,"
            " identity_index FROM residents_resident"
        )
        row = " ".join(cursor.fetchone())
    for secret in (number, phone, "糖尿病", "visual", "subsistence"):
        assert secret not in row


def test_screens_show_masks(worker, community):
    resident = register(
        worker, community, identity_number=identity("19500101"), phone="13812345678"
    )
    masked = resident_masked(Resident.objects.get(pk=resident.pk))
    assert (
        masked["identity_number"]
        == "990102********1230"[:6] + "********" + identity("19500101")[-4:]
    )
    assert masked["phone"] == "138****5678"


def test_unmasking_needs_a_purpose_and_is_logged(worker, community):
    resident = register(worker, community, phone="13812345678")
    with pytest.raises(ValidationFailed):
        resident_unmask(actor=worker, resident=resident, fields=["phone"], purpose="")
    shown = resident_unmask(
        actor=worker, resident=resident, fields=["phone"], purpose="上门送餐联系"
    )
    assert shown == {"phone": "13812345678"}
    event = AccessEvent.objects.get()
    assert (event.actor, event.resident_ref, event.fields, event.purpose) == (
        worker,
        resident.pk,
        ["phone"],
        "上门送餐联系",
    )


def test_officials_and_volunteers_cannot_unmask(worker, community):
    resident = register(worker, community, phone="13812345678")
    for role, region in ((Role.STREET_OFFICIAL, community.parent), (Role.VOLUNTEER, community)):
        user = UserFactory.create()
        RoleAssignmentFactory(user=user, role=role, region=region)
        with pytest.raises(PermissionDenied):
            resident_unmask(actor=user, resident=resident, fields=["phone"], purpose="想看看")
    assert not AccessEvent.objects.exists()


def test_who_sees_which_residents(worker, community):
    mine = register(worker, community)
    other = region_chain("990102002001")
    theirs = resident_register(actor=None, data=ResidentInput(name="张三", community=other))
    official = UserFactory.create()
    RoleAssignmentFactory(user=official, role=Role.STREET_OFFICIAL, region=community.parent)
    volunteer = UserFactory.create()
    RoleAssignmentFactory(user=volunteer, role=Role.VOLUNTEER, region=community)
    myself = UserFactory.create()
    theirs.user = myself
    theirs.save()
    assert set(residents_visible_to(worker)) == {mine}
    assert set(residents_visible_to(official)) == {mine}
    district = UserFactory.create()
    RoleAssignmentFactory(
        user=district, role=Role.DISTRICT_OFFICIAL, region=community.parent.parent
    )
    assert set(residents_visible_to(district)) == {mine, theirs}
    assert set(residents_visible_to(volunteer)) == set()
    assert set(residents_visible_to(myself)) == {theirs}


def test_anonymization_erases_the_person_and_keeps_the_statistics(worker, community):
    resident = register(
        worker,
        community,
        identity_number=identity("19500101"),
        phone="13812345678",
        living_alone=True,
        disability_category="visual",
        disability_grade="2",
    )
    consent_record(
        actor=worker, resident=resident, purpose="services", given_on=dt.date(2026, 1, 1)
    )
    before = priority_counts(scope=worker_scope(worker), day=dt.date(2026, 11, 30))
    discover()
    result = CliRunner().invoke(linli_group, ["residents", "anonymize", str(resident.pk), "--yes"])
    assert result.exit_code == 0, result.output
    resident.refresh_from_db()
    assert (resident.name, resident.identity_number, resident.phone, resident.identity_index) == (
        "",
        "",
        "",
        "",
    )
    assert resident.birth_date is None
    assert not resident.consents.exists()
    assert resident not in residents_visible_to(worker)
    after = priority_counts(scope=worker_scope(worker), day=dt.date(2026, 11, 30))
    assert after == before
    assert after[community.code]["elderly_living_alone"] == 1
    assert after[community.code]["disabled"] == 1
    # The same person may register again: the identity number is free.
    register(worker, community, identity_number=identity("19500101"))


def worker_scope(user: User):
    from linli.accounts.selectors import user_scope

    return user_scope(user)


def test_anonymizing_twice_says_so():
    discover()
    result = CliRunner().invoke(linli_group, ["residents", "anonymize", "999999", "--yes"])
    assert result.exit_code == 1
    assert "No resident no. 999999" in result.output


def test_the_demo_residents_are_plausible_and_protected(db):
    from linli.core.services import demo_build
    from linli.residents.selectors import priority_counts as counts

    demo_build(seed=5, scale="small", echo=lambda _t: None, show_progress=False)
    residents = list(Resident.objects.all())
    assert 350 <= len(residents) <= 450
    assert all(r.identity_number.startswith("99") for r in residents)
    assert all(r.phone.startswith("1400") for r in residents if r.phone)
    totals: dict[str, int] = {}
    from linli.accounts.selectors import Scope

    for figures in counts(scope=Scope(everything=True, prefixes=())).values():
        for group, n in figures.items():
            totals[group] = totals.get(group, 0) + n
    assert totals["residents"] == len(residents)
    assert 0.02 < totals["disabled"] / len(residents) < 0.10
    assert totals["elderly"] > totals["elderly_living_alone"] > 0


def test_an_edit_moves_the_priority_counts(worker, community):
    from linli.residents.services import resident_input, resident_update

    resident = register(worker, community, identity_number=identity("19500101"))
    day = dt.date(2026, 11, 30)
    assert (
        priority_counts(scope=worker_scope(worker), day=day)[community.code].get("disabled", 0) == 0
    )
    data = resident_input(resident)
    data.disability_category, data.disability_grade, data.living_alone = "physical", "3", True
    resident_update(actor=worker, resident=resident, data=data)
    counts = priority_counts(scope=worker_scope(worker), day=day)[community.code]
    assert (counts["residents"], counts["disabled"], counts["elderly_living_alone"]) == (1, 1, 1)
    data = resident_input(Resident.objects.get(pk=resident.pk))
    data.disability_category = data.disability_grade = ""
    resident_update(actor=worker, resident=resident, data=data)
    counts = priority_counts(scope=worker_scope(worker), day=day)[community.code]
    assert (counts["residents"], counts["disabled"]) == (1, 0)


def test_an_edit_keeps_its_own_identity_number_and_refuses_anothers(worker, community):
    from linli.residents.services import resident_input, resident_update

    first = register(worker, community, identity_number=identity("19500101"))
    second = register(worker, community, name="李四", identity_number=identity("19600101"))
    data = resident_input(first)
    data.address = "幸福路1号"
    assert resident_update(actor=worker, resident=first, data=data).address == "幸福路1号"
    data = resident_input(second)
    data.identity_number = identity("19500101")
    with pytest.raises(ValidationFailed) as refused:
        resident_update(actor=worker, resident=second, data=data)
    assert f"no. {first.pk}" in refused.value.fields["identity_number"][0]
    assert Resident.objects.get(pk=second.pk).identity_number == identity("19600101")


def test_a_guardians_consent_lets_a_childs_record_grow_and_its_withdrawal_erases_it(
    worker, community
):
    from linli.residents.services import consent_withdraw, resident_input, resident_update

    parent = register(worker, community, identity_number=identity("19900101"))
    child = register(worker, community, name="王小明", identity_number=identity("20200101"))
    data = resident_input(child)
    data.health_notes = "哮喘"
    with pytest.raises(ValidationFailed):
        resident_update(actor=worker, resident=child, data=data)
    with pytest.raises(ValidationFailed) as refused:
        consent_record(actor=worker, resident=child, purpose="guardian", given_on=dt.date.today())
    assert "given_by" in refused.value.fields
    consent = consent_record(
        actor=worker,
        resident=child,
        purpose="guardian",
        given_on=dt.date.today(),
        given_by=parent,
    )
    data = resident_input(child)
    data.health_notes = "哮喘"
    assert resident_update(actor=worker, resident=child, data=data).health_notes == "哮喘"
    consent_withdraw(actor=worker, consent=consent)
    child.refresh_from_db()
    assert child.health_notes == ""
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date.today()
    with pytest.raises(ValidationFailed):
        consent_withdraw(actor=worker, consent=consent)


def test_a_proxy_needs_consent_and_stops_acting_when_it_is_withdrawn(worker, community):
    from linli.residents.selectors import residents_acted_for
    from linli.residents.services import consent_withdraw, relation_add

    elder = register(worker, community, identity_number=identity("19400101"))
    son = register(worker, community, name="王强", identity_number=identity("19700101", "131"))
    son.user = UserFactory.create()
    son.save()
    with pytest.raises(ValidationFailed) as refused:
        relation_add(actor=worker, resident=elder, person=son, kind="proxy")
    assert "consent" in refused.value.fields
    wrong = consent_record(
        actor=worker, resident=elder, purpose="services", given_on=dt.date.today()
    )
    with pytest.raises(ValidationFailed):
        relation_add(actor=worker, resident=elder, person=son, kind="proxy", consent=wrong)
    consent = consent_record(
        actor=worker, resident=elder, purpose="proxy", given_on=dt.date.today()
    )
    relation_add(actor=worker, resident=elder, person=son, kind="proxy", consent=consent)
    assert list(residents_acted_for(son.user)) == [son, elder]
    elder.user = UserFactory.create()
    elder.save()
    consent_withdraw(actor=elder.user, consent=consent)
    assert list(residents_acted_for(son.user)) == [son]


def test_a_resident_asks_for_a_correction_and_the_worker_answers(worker, community):
    from linli.residents.models import Correction
    from linli.residents.selectors import corrections_for
    from linli.residents.services import correction_answer, correction_ask

    resident = register(worker, community)
    resident.user = UserFactory.create()
    resident.save()
    with pytest.raises(PermissionDenied):
        correction_ask(actor=worker, resident=resident, message="地址写错了")
    with pytest.raises(ValidationFailed):
        correction_ask(actor=resident.user, resident=resident, message=" ")
    asked = correction_ask(actor=resident.user, resident=resident, message="门牌号应为12号")
    assert list(corrections_for(worker)) == [asked]
    assert list(corrections_for(resident.user)) == [asked]
    with pytest.raises(ValidationFailed) as refused:
        correction_answer(actor=worker, correction=asked, status="declined", answer="")
    assert "answer" in refused.value.fields
    with pytest.raises(PermissionDenied):
        correction_answer(actor=resident.user, correction=asked, status="done", answer="")
    done = correction_answer(actor=worker, correction=asked, status="done", answer="已更正")
    assert done.status == Correction.Status.DONE
    assert done.answered_by == worker


def test_a_resident_downloads_their_record_and_the_download_is_logged(worker, community):
    from linli.residents.services import resident_download

    resident = register(worker, community, phone="13812345678", health_notes="高血压")
    resident.user = UserFactory.create()
    resident.save()
    resident_unmask(actor=worker, resident=resident, fields=["phone"], purpose="送餐联系")
    with pytest.raises(PermissionDenied):
        resident_download(actor=worker, resident=resident)
    record = resident_download(actor=resident.user, resident=resident)
    assert (record["phone"], record["health_notes"]) == ("13812345678", "高血压")
    # Newest first: the download itself is on the record it returns.
    assert [e["action"] for e in record["access_events"]] == ["download", "unmask"]
    assert AccessEvent.objects.filter(action="download", actor=resident.user).count() == 1


def test_exports_write_one_access_event_per_resident(worker, community):
    from linli.residents.selectors import access_events_visible_to
    from linli.residents.services import access_log_export

    residents = [register(worker, community, name=f"居民{i}") for i in range(3)]
    assert (
        access_log_export(actor=worker, residents=residents, fields=["name"], purpose="台账") == 3
    )
    auditor = UserFactory.create()
    RoleAssignmentFactory(user=auditor, role=Role.AUDITOR, region=community.parent)
    assert access_events_visible_to(auditor).count() == 3
    elsewhere = UserFactory.create()
    RoleAssignmentFactory(user=elsewhere, role=Role.AUDITOR, region=region_chain("990102002001"))
    assert access_events_visible_to(elsewhere).count() == 0
    assert access_events_visible_to(worker).count() == 0


def test_list_filters_by_age_band_and_encrypted_groups(worker, community):
    from linli.residents.selectors import residents_filter

    old = register(
        worker, community, identity_number=identity("19400101"), difficulty="subsistence"
    )
    child = register(worker, community, name="王小明", identity_number=identity("20200101"))
    adult = register(
        worker,
        community,
        name="王强",
        identity_number=identity("19800101"),
        disability_category="hearing",
        disability_grade="2",
    )
    everyone = Resident.objects.all()
    day = dt.date(2026, 11, 30)
    assert set(residents_filter(everyone, age_band="80+", day=day)) == {old}
    assert set(residents_filter(everyone, age_band="0-13", day=day)) == {child}
    assert set(residents_filter(everyone, group="elderly", day=day)) == {old}
    assert set(residents_filter(everyone, group="minor", day=day)) == {child}
    assert set(residents_filter(everyone, group="disabled", day=day)) == {adult}
    assert set(residents_filter(everyone, group="family_in_difficulty", day=day)) == {old}
    assert set(residents_filter(everyone, community=community.code[:9], day=day)) == {
        old,
        child,
        adult,
    }
