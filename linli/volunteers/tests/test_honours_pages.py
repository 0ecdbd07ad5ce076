"""Pages and API of honours, stars, certificates and indicators: who sees what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.regions.models import Region
from linli.regions.tests.factories import region_chain
from linli.residents.services import ResidentInput, resident_register
from linli.volunteers.certificates import certificate_issue, grouped_code
from linli.volunteers.choices import AwardStatus, ChallengeStatus, TransferKind, VolunteerStatus
from linli.volunteers.honours import star_challenge, stars_propose
from linli.volunteers.ledger import person_account, timebank_credit
from linli.volunteers.models import Certificate, StarAward, StarChallenge, Team, Volunteer

STREET, OUTSIDE = "990102001000", "980101001001"


@pytest.fixture(autouse=True)
def star_rules(settings):
    settings.LINLI_VOLUNTEER_STAR_HOURS = [10, 30, 60]
    settings.LINLI_VOLUNTEER_STAR_NOTICE_DAYS = 5


@pytest.fixture
def volunteer(community):
    person = Volunteer.objects.create(
        user=UserFactory.create(),
        name="李明华",
        community=community,
        status=VolunteerStatus.VERIFIED,
    )
    person.teams.add(Team.objects.create(name="幸福里助老队", community=community))
    timebank_credit(
        account=person_account(person.user),
        amount=Decimal("12"),
        kind=TransferKind.ACTIVITY_HOURS,
        actor=None,
        community=community,
        earned_by=person.user,
    )
    return person


@pytest.fixture
def award(volunteer):
    stars_propose()
    return StarAward.objects.get(volunteer=volunteer)


@pytest.fixture
def neighbour(db):
    return UserFactory.create()


@pytest.fixture
def official(community):
    """A street official over the community's street."""
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=Role.STREET_OFFICIAL, region=community.parent)
    return user


# --- the honours page ---------------------------------------------------------------------


def test_honours_page_is_public_and_masks_names(client, award, community):
    response = client.get(reverse("volunteers:honours", args=[community.code]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "李*" in page
    assert "李明华" not in page
    assert "幸福里助老队" in page
    assert award.notice_until.isoformat() in page
    assert "The volunteers of this community have given 12.00 hours of service." in page
    assert "Sign in to challenge" in page
    assert reverse("volunteers:star_challenge", args=[award.pk]) in page


def test_honours_page_offers_challenge_to_others_not_to_the_volunteer(
    client, award, community, neighbour, volunteer
):
    url = reverse("volunteers:honours", args=[community.code])
    challenge_url = reverse("volunteers:star_challenge", args=[award.pk])
    client.force_login(neighbour)
    assert f'href="{challenge_url}"' in client.get(url).content.decode()
    client.force_login(volunteer.user)
    assert challenge_url not in client.get(url).content.decode()


def test_honours_of_no_community_is_not_found(client, community):
    assert client.get(reverse("volunteers:honours", args=["990102009009"])).status_code == 404
    assert client.get(reverse("volunteers:honours", args=[STREET])).status_code == 404


def test_challenge_through_the_page(client, award, neighbour, community):
    url = reverse("volunteers:star_challenge", args=[award.pk])
    client.force_login(neighbour)
    assert client.get(url).status_code == 200
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 400
    assert "Say why you challenge this award." in empty.content.decode()
    done = client.post(url, {"reason": "那天活动取消了"})
    assert done.status_code == 302
    assert done["Location"] == reverse("volunteers:honours", args=[community.code])
    assert StarChallenge.objects.get().reason == "那天活动取消了"


def test_the_volunteer_cannot_challenge_their_own_award(client, award, volunteer):
    client.force_login(volunteer.user)
    url = reverse("volunteers:star_challenge", args=[award.pk])
    assert client.post(url, {"reason": "不配"}).status_code == 403


def test_worker_answers_on_the_honours_page(client, award, neighbour, worker, community):
    challenge = star_challenge(award=award, actor=neighbour, reason="时长存疑")
    page = reverse("volunteers:honours", args=[community.code])
    answer = reverse("volunteers:challenge_answer", args=[challenge.pk])
    client.force_login(neighbour)
    assert "时长存疑" not in client.get(page).content.decode()
    assert client.post(answer, {"outcome": "upheld", "answer": "我说了算"}).status_code == 403

    client.force_login(worker)
    assert "时长存疑" in client.get(page).content.decode()
    missing = client.post(answer, {"answer": "查实"})
    assert missing.status_code == 400
    assert "Uphold or dismiss the challenge." in missing.content.decode()
    assert client.post(answer, {"outcome": "upheld", "answer": "查实"}).status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.WITHDRAWN
    assert "李*" not in client.get(page).content.decode()


def test_my_stars(client, award, volunteer, neighbour):
    url = reverse("volunteers:stars")
    assert client.get(url).status_code == 302
    client.force_login(volunteer.user)
    page = client.get(url).content.decode()
    assert "You have given 12.00 hours of volunteer service." in page
    assert "18.00 more hours to 2 stars." in page
    assert "In public notice" in page
    client.force_login(neighbour)
    assert "You are not registered as a volunteer." in client.get(url).content.decode()


# --- certificates -------------------------------------------------------------------------


def test_issue_and_download_a_certificate(client, volunteer, neighbour):
    url = reverse("volunteers:certificates")
    assert client.get(url).status_code == 302
    client.force_login(volunteer.user)
    issued = client.post(url)
    assert issued.status_code == 302
    certificate = Certificate.objects.get()
    assert certificate.volunteer == volunteer
    assert grouped_code(certificate.code) in client.get(url).content.decode()

    pdf_url = reverse("volunteers:certificate_pdf", args=[certificate.code])
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert certificate.code.encode() in pdf.content

    client.force_login(neighbour)
    assert client.get(pdf_url).status_code == 404
    client.logout()
    assert client.get(pdf_url).status_code == 302


def test_no_hours_no_certificate(client, community):
    newcomer = Volunteer.objects.create(
        user=UserFactory.create(), name="新人", community=community, status="verified"
    )
    client.force_login(newcomer.user)
    refused = client.post(reverse("volunteers:certificates"))
    assert refused.status_code == 400
    assert "There are no confirmed hours to certify yet." in refused.content.decode()


def test_public_verification_shows_what_the_certificate_says(client, volunteer):
    certificate = certificate_issue(volunteer=volunteer, actor=volunteer.user)
    response = client.get(reverse("volunteers:certificate_verify", args=[certificate.code]))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    page = response.content.decode()
    assert '<dd id="certificate-name">李明华</dd>' in page
    assert '<dd id="certificate-total">12.00</dd>' in page
    assert grouped_code(certificate.code) in page

    typed = grouped_code(certificate.code).lower()
    by_form = client.get(reverse("volunteers:certificate_verify_form"), {"code": typed})
    assert by_form.status_code == 200
    assert "李明华" in by_form.content.decode()


def test_unknown_code_is_no_such_certificate(client, db):
    response = client.get(reverse("volunteers:certificate_verify", args=["ABCDEFGHJKMN"]))
    assert response.status_code == 404
    assert "There is no certificate with the code ABCDEFGHJKMN." in response.content.decode()
    form = client.get(reverse("volunteers:certificate_verify_form"))
    assert form.status_code == 200
    assert 'name="code"' in form.content.decode()


# --- indicators ---------------------------------------------------------------------------


@pytest.fixture
def area(community, volunteer):
    """The community (2 residents, one volunteer with 12 hours this month), a second
    community in the same street, and a tree outside."""
    for name in ("居民甲", "居民乙"):
        resident_register(actor=None, data=ResidentInput(name=name, community=community))
    region_chain("990102001002")
    region_chain(OUTSIDE)
    return community


def test_indicators_page_for_an_official(client, area, official):
    url = reverse("volunteers:indicators")
    client.force_login(official)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-region="{area.code}"' in text
    assert 'data-region="990102001002"' in text
    assert "50.00" in text  # one volunteer per two residents
    drill = client.get(url, {"region": area.code})
    assert drill.status_code == 200
    assert f'href="?region={STREET}' in drill.content.decode()
    assert client.get(url, {"region": OUTSIDE}).status_code == 403
    bad = client.get(url, {"region": STREET, "month": "2025-13"})
    assert bad.status_code == 400
    assert "There is no such month." in bad.content.decode()


def test_indicators_page_is_for_officials(client, area, neighbour):
    client.force_login(neighbour)
    assert client.get(reverse("volunteers:indicators")).status_code == 403


# --- the API ------------------------------------------------------------------------------


def test_api_honours_public(api_client, award, community):
    response = api_client.get(reverse("api:volunteer-honours", args=[community.code]))
    assert response.status_code == 200
    assert response.json() == {
        "community": community.code,
        "community_name": community.name_en,
        "total_hours": "12.00",
        "awards": [
            {
                "id": award.pk,
                "level": 1,
                "hours": "12.00",
                "status": "notice",
                "status_label": "In public notice",
                "notice_until": award.notice_until.isoformat(),
                "decided_at": None,
                "name": "李*",
                "teams": ["幸福里助老队"],
                "may_challenge": False,
            }
        ],
    }
    unknown = api_client.get(reverse("api:volunteer-honours", args=[STREET]))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_api_my_stars(api_client, award, volunteer, neighbour):
    url = reverse("api:volunteer-stars")
    api_client.force_authenticate(volunteer.user)
    body = api_client.get(url).json()
    assert {k: v for k, v in body.items() if k != "awards"} == {
        "earned_hours": "12.00",
        "level": 1,
        "awarded_level": 0,
        "next_level": 2,
        "next_threshold": "30.00",
        "hours_to_next": "18.00",
    }
    assert [a["id"] for a in body["awards"]] == [award.pk]
    api_client.force_authenticate(neighbour)
    assert api_client.get(url).status_code == 404


def test_api_challenge_and_answer(api_client, award, volunteer, neighbour, worker):
    url = reverse("api:star-challenge", args=[award.pk])
    assert api_client.post(url, {"reason": "存疑"}).status_code == 401
    api_client.force_authenticate(volunteer.user)
    assert api_client.post(url, {"reason": "存疑"}).status_code == 403
    api_client.force_authenticate(neighbour)
    empty = api_client.post(url, {"reason": ""})
    assert (empty.status_code, list(empty.json()["fields"])) == (400, ["reason"])
    made = api_client.post(url, {"reason": "那天不在"})
    assert made.status_code == 201
    challenge_id = made.json()["id"]
    assert made.json()["status"] == ChallengeStatus.OPEN

    listing = reverse("api:star-challenge-list")
    assert api_client.get(listing).json() == []
    answer = reverse("api:star-challenge-answer", args=[challenge_id])
    assert api_client.post(answer, {"outcome": "dismissed", "answer": "x"}).status_code == 403

    api_client.force_authenticate(worker)
    rows = api_client.get(listing).json()
    assert [(r["id"], r["volunteer"], r["reason"]) for r in rows] == [
        (challenge_id, "李明华", "那天不在")
    ]
    bad = api_client.post(answer, {"outcome": "maybe", "answer": "x"})
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["outcome"])
    done = api_client.post(answer, {"outcome": "upheld", "answer": "查实"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["award_status"]) == ("upheld", "withdrawn")
    again = api_client.post(answer, {"outcome": "dismissed", "answer": "改主意"})
    assert (again.status_code, list(again.json()["fields"])) == (400, ["challenge"])


def test_api_challenge_after_the_notice_is_refused(api_client, volunteer, neighbour):
    stars_propose(today=timezone.localdate() - dt.timedelta(days=30))
    award = StarAward.objects.get()
    api_client.force_authenticate(neighbour)
    late = api_client.post(reverse("api:star-challenge", args=[award.pk]), {"reason": "晚了"})
    assert (late.status_code, list(late.json()["fields"])) == (400, ["award"])


def test_api_certificates_and_public_verification(api_client, volunteer, neighbour):
    url = reverse("api:certificate-list")
    api_client.force_authenticate(volunteer.user)
    made = api_client.post(url)
    assert made.status_code == 201
    code = made.json()["code"]
    assert made.json()["content"]["totals"]["hours"] == "12.00"
    assert made.json()["verify"] == f"http://testserver/verify/{code}/"
    assert [c["code"] for c in api_client.get(url).json()] == [code]
    pdf = api_client.get(reverse("api:certificate-pdf", args=[code]))
    assert (pdf.status_code, pdf.content[:4]) == (200, b"%PDF")

    api_client.force_authenticate(neighbour)
    assert api_client.get(reverse("api:certificate-pdf", args=[code])).status_code == 404
    assert api_client.get(url).status_code == 404  # not a volunteer

    api_client.force_authenticate(None)
    checked = api_client.get(reverse("api:certificate-verify", args=[code]))
    assert checked.status_code == 200
    body = checked.json()
    assert set(body) == {
        "code",
        "name",
        "community",
        "organization",
        "period",
        "activities",
        "requests",
        "totals",
        "issued_at",
    }
    assert (body["code"], body["name"], body["totals"]["hours"]) == (code, "李明华", "12.00")
    unknown = api_client.get(reverse("api:certificate-verify", args=["ABCDEFGHJKMN"]))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_api_indicators_exact_and_scoped(api_client, area, official, neighbour):
    url = reverse("api:volunteer-indicators")
    month = f"{timezone.localdate():%Y-%m}"
    assert api_client.get(url, {"region": STREET}).status_code == 401
    api_client.force_authenticate(official)
    response = api_client.get(url, {"region": STREET, "month": month})
    assert response.status_code == 200
    assert response.json() == {
        "region": STREET,
        "name": Region.objects.get(code=STREET).name_en,
        "level": "street",
        "month": month,
        "totals": {
            "volunteers": 1,
            "residents": 2,
            "share": "0.5000",
            "hours": "12.00",
            "active": 1,
        },
        "children": [
            {
                "code": area.code,
                "name": area.name_en,
                "level": "community",
                "volunteers": 1,
                "residents": 2,
                "share": "0.5000",
                "hours": "12.00",
                "active": 1,
            },
            {
                "code": "990102001002",
                "name": Region.objects.get(code="990102001002").name_en,
                "level": "community",
                "volunteers": 0,
                "residents": 0,
                "share": None,
                "hours": "0.00",
                "active": 0,
            },
        ],
    }
    assert api_client.get(url, {"region": "990102000000"}).status_code == 403
    assert api_client.get(url, {"region": OUTSIDE}).status_code == 403
    missing = api_client.get(url)
    assert (missing.status_code, list(missing.json()["fields"])) == (400, ["region"])
    unknown = api_client.get(url, {"region": "990102009000"})
    assert unknown.json()["fields"] == {"region": ["No region with code 990102009000."]}
    bad_month = api_client.get(url, {"region": STREET, "month": "2025-13"})
    assert bad_month.json()["fields"] == {"month": ["There is no such month."]}

    api_client.force_authenticate(neighbour)
    assert api_client.get(url, {"region": STREET}).status_code == 403


def test_api_honours_queries_do_not_grow_with_awards(
    api_client, award, community, django_assert_num_queries
):
    for name in ("王小明", "赵大年", "钱一"):
        person = Volunteer.objects.create(
            user=UserFactory.create(), name=name, community=community, status="verified"
        )
        person.teams.add(Team.objects.create(name=f"{name}的队", community=community))
        timebank_credit(
            account=person_account(person.user),
            amount=Decimal("31"),
            kind=TransferKind.ACTIVITY_HOURS,
            actor=None,
            community=community,
            earned_by=person.user,
        )
    stars_propose()
    # The community, the awards, their teams, the community's hours.
    with django_assert_num_queries(4):
        response = api_client.get(reverse("api:volunteer-honours", args=[community.code]))
    awards = [(a["level"], a["name"]) for a in response.json()["awards"]]
    # Highest level first; names within a level in the database's collation.
    assert sorted(awards[:3]) == [(2, "王*"), (2, "赵*"), (2, "钱*")]
    assert awards[3] == (1, "李*")
