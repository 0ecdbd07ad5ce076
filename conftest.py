"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from linli.core.services import demo_build

# A province, city, county, street and community of a second tree, outside the demo
# district: every scope test checks that nothing of it leaks.
OUTSIDE_CODES = ("980000000000", "980100000000", "980101000000", "980101001000", "980101001001")


@pytest.fixture
def demo(db):
    """The small demo district, its ten demo accounts, and a second tree beside it."""
    from linli.regions.tests.factories import region_chain

    demo_build(seed=7, scale="small", echo=lambda _text: None, show_progress=False)
    region_chain(OUTSIDE_CODES[-1])
    # A second county in the demo city, outside every demo scope below the city.
    region_chain("990103001001")


@pytest.fixture
def api_client() -> APIClient:
    """An API client that asks for English, as the tests' assertions are written."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def client() -> Client:
    """A page client that asks for English; Chinese tests pass their own header."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture(autouse=True)
def english():
    """Tests read messages in English unless they switch language themselves."""
    with translation.override("en"):
        yield


@pytest.fixture
def taxonomy(db):
    """The shipped taxonomies (migrations install them; this also serves --no-migrations runs)."""
    from linli.directory.models import Taxonomy, TaxonomyTerm
    from linli.directory.taxonomy import install

    install(Taxonomy, TaxonomyTerm)
