"""The demo: the demo street's last quarter allocated and approved, this quarter a draft."""

from __future__ import annotations

import pytest

from linli.accounts.choices import Role
from linli.accounts.demo import demo_username
from linli.accounts.models import User

from ..choices import PoolState
from ..funds import pool_dry_run, stored_plan
from ..models import FundPool

pytestmark = pytest.mark.django_db


def test_demo_pools(demo, client):
    official = User.objects.get(username=demo_username(Role.STREET_OFFICIAL))
    approved = FundPool.objects.get(state=PoolState.APPROVED)
    draft = FundPool.objects.get(state=PoolState.DRAFT)
    plan = stored_plan(approved)
    assert len(plan.lines) > 1
    assert sum(line.amount for line in plan.lines) == approved.allocated
    assert approved.allocated is not None
    assert approved.unallocated is not None
    assert approved.allocated + approved.unallocated == approved.amount
    assert all(line.services >= 1 for line in plan.lines)
    assert all(explanation for _line, explanation in plan.explanations)
    assert pool_dry_run(actor=official, pool=draft).fingerprint
    client.force_login(official)
    page = client.get(f"/pools/{approved.pk}/")
    assert page.status_code == 200
    assert b'id="export"' in page.content
    assert client.get(f"/pools/{approved.pk}/export.xlsx").status_code == 200
