"""The scorecard pages, the provider's score page and their API: who sees what, what
renders, and how many queries a list takes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linli.accounts.choices import Role
from linli.accounts.tests.factories import RoleAssignmentFactory, UserFactory
from linli.directory.tests.factories import OrganizationFactory
from linli.evaluations.tests.test_indices import complain, rate
from linli.evaluations.tests.test_scorecards import district, meals, places  # noqa: F401

A, B, C = "990102001001", "990102001002", "990102002001"


def official(role: str, region) -> object:
    user = UserFactory.create()
    RoleAssignmentFactory(user=user, role=role, region=region)
    return user


def test_street_official_sees_their_street_only(client, district):  # noqa: F811
    user = official(Role.STREET_OFFICIAL, district["A"].parent)
    client.force_login(user)
    page = client.get(reverse("evaluations:scorecards"), {"period": "2026-06"})
    assert page.status_code == 200
    text = page.content.decode()
    assert f"community-{A}" in text
    assert f"community-{B}" in text
    assert f"community-{C}" not in text
    assert "district-" not in text  # the whole district is not theirs
    assert client.get(reverse("evaluations:scorecard", args=[A])).status_code == 200
    assert client.get(reverse("evaluations:scorecard", args=[C])).status_code == 404


def test_district_official_sees_the_district_table(client, district):  # noqa: F811
    client.force_login(official(Role.DISTRICT_OFFICIAL, district["A"].parent.parent))
    text = client.get(reverse("evaluations:scorecards"), {"period": "2026-06"}).content.decode()
    assert f"community-{C}" in text
    assert "district-990102000000" in text


def test_scorecard_page_shows_parts_chart_data_and_no_cdn(client, district):  # noqa: F811
    client.force_login(official(Role.COMMUNITY_WORKER, district["A"]))
    page = client.get(reverse("evaluations:scorecard", args=[A]), {"period": "2026-06"})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="scorecard-trend"' in text
    assert "vendor/echarts/echarts.min.js" in text
    assert 'src="http' not in text  # every script is served by Linli itself
    assert 'href="http' not in text.split("</head>")[0]
    assert "3 / 4" in text  # timeliness, on time of due
    assert "0.681" in text  # composite (0.375 + 0.75 + 0.7 + 0.9) / 4
    bad = client.get(reverse("evaluations:scorecard", args=[A]), {"period": "2026-13"})
    assert bad.status_code == 400


def test_resident_sees_their_own_community(client, district):  # noqa: F811
    from linli.residents.services import ResidentInput, resident_register

    person = resident_register(
        actor=None, data=ResidentInput(name="李梅", community=district["A"], address="幸福里1号")
    )
    person.user = UserFactory.create()
    person.save()
    client.force_login(person.user)
    assert client.get(reverse("evaluations:scorecard", args=[A])).status_code == 200
    assert client.get(reverse("evaluations:scorecard", args=[B])).status_code == 404


def test_provider_page_works_out_the_formula(client, places, meals, settings):  # noqa: F811
    settings.LINLI_INDEX_PRIOR_WEIGHT = 10
    settings.LINLI_INDEX_COMPLAINT_PENALTY = 2
    settings.LINLI_SCORE_PRIVACY_MIN_N = 1
    provider = OrganizationFactory.create()
    from django.utils import timezone

    now = timezone.now()
    rate([5, 5, 5, 5, 4], community=places["A"], service=meals, organization=provider, at=now)
    rate([3, 3, 4, 4, 1], community=places["C"], service=meals, at=now)
    complain(community=places["A"], organization=provider, at=now)
    client.force_login(UserFactory.create())
    page = client.get(reverse("evaluations:provider_scores", args=[provider.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "(24 + 10 × 3.9000) / (5 + 10) = <strong>4.2000</strong>" in text
    assert "4.2000 − 2 × 1 / 5 = 4.2000 − 0.4000 = <strong>3.8000</strong>" in text
    api = client.get(reverse("api:provider-scores", args=[provider.pk]))
    assert api.status_code == 200
    assert api.json()["index"]["quality"] == pytest.approx(3.8)
    assert api.json()["index"]["n"] == 5


def test_scorecard_api_scope_errors_and_queries(
    client,
    district,  # noqa: F811
    django_assert_num_queries,
):
    user = official(Role.STREET_OFFICIAL, district["A"].parent)
    client.force_login(user)
    url = reverse("api:scorecard-list")
    with django_assert_num_queries(14):
        found = client.get(url, {"period": "2026-06"})
    assert found.status_code == 200
    body = found.json()
    assert [c["code"] for c in body["scorecards"]] == [A, B]
    first = body["scorecards"][0]
    assert first["rank_district"] == 1
    assert first["parts"]["timeliness"]["numerator"] == 3
    assert client.get(url, {"period": "2026-13"}).json()["fields"]["period"]
    assert client.get(url, {"period": "2026-13"}).status_code == 400
    assert client.get(url, {"region": C}).status_code == 404


def test_scorecard_api_region_narrows_within_scope(client, district):  # noqa: F811
    client.force_login(official(Role.DISTRICT_OFFICIAL, district["A"].parent.parent))
    url = reverse("api:scorecard-list")
    body = client.get(url, {"region": "990102001000", "period": "2026-06"}).json()
    assert [c["code"] for c in body["scorecards"]] == [A, B]
    # Ranks stay those of the whole district.
    assert [c["ranked_in_district"] for c in body["scorecards"]] == [3, 3]
    wrong = client.get(url, {"region": "abc"})
    assert wrong.status_code == 400
    assert "region" in wrong.json()["fields"]
