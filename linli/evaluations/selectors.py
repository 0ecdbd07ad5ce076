"""Reads of the evaluations app; every list goes through the scoping selector."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import staff_organizations, user_scope

from .models import Complaint, Evaluation


def evaluations_of_rater(user: User) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(rater=user).select_related("request", "service", "responder")


def complaints_of_complainant(user: User) -> QuerySet[Complaint]:
    return Complaint.objects.filter(complainant=user).select_related("community")


def complaints_in_scope(user: User) -> QuerySet[Complaint]:
    """Complaints the user handles: in communities they keep, or against their provider."""
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    organizations = list(staff_organizations(user).values_list("organization_id", flat=True))
    condition = Q(pk__in=[])
    if not scope.is_empty:
        condition |= scope.q("community__code")
    if organizations:
        condition |= (
            Q(organization_id__in=organizations)
            | Q(responder__organization_id__in=organizations)
            | Q(request__responder__organization_id__in=organizations)
        )
    return Complaint.objects.filter(condition).select_related("community")


def complaints_visible(user: User) -> QuerySet[Complaint]:
    """Whatever the user filed or handles."""
    return (
        Complaint.objects.filter(
            Q(complainant=user) | Q(pk__in=complaints_in_scope(user).values("pk"))
        )
        .select_related("community")
        .distinct()
    )
