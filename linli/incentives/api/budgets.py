"""API of participatory budgets: budgets, proposals, ballots, results.

Every endpoint needs a signed-in user but the published results; the services check
who may do what, and refusals come back as {"code", "detail", "fields"}.
"""

from __future__ import annotations

from typing import cast

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.models import User
from linli.core.errors import NotFound
from linli.regions.models import Region

from ..budgets import (
    ballot_cast,
    budget_close,
    budget_create,
    budget_open_review,
    budget_open_voting,
    budget_publish,
    budget_results,
    budgets_for,
    proposal_review,
    proposal_submit,
)
from ..choices import BudgetState, Feasibility, Rule
from ..models import Budget, Proposal


def _user(request: Request) -> User:
    return cast(User, request.user)


def _budget(user: User | None, pk: int) -> Budget:
    found = budgets_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such participatory budget."))
    return found


@extend_schema_serializer(component_name="BudgetProposal")
class ProposalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    feasibility = serializers.CharField(help_text=", ".join(Feasibility.values))
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    reason = serializers.CharField()
    funded = serializers.BooleanField(allow_null=True, help_text="set when published")


@extend_schema_serializer(component_name="ParticipatoryBudget")
class BudgetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.CharField(source="community_id")
    title = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    state = serializers.CharField(help_text=", ".join(BudgetState.values))
    state_label = serializers.CharField(source="get_state_display")
    proposals_until = serializers.DateField(allow_null=True)
    voting_until = serializers.DateField(allow_null=True)
    rule = serializers.CharField(help_text="the rule of the published result, or empty")


class BudgetListApi(APIView):
    """The budgets of the caller's community and of the communities they work for; a
    community worker creates one."""

    @extend_schema_serializer(component_name="BudgetInput")
    class InputSerializer(serializers.Serializer):
        community = serializers.CharField(max_length=12)
        title = serializers.CharField(max_length=200)
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)
        proposals_until = serializers.DateField(required=False, allow_null=True)
        voting_until = serializers.DateField(required=False, allow_null=True)

    @extend_schema(responses=BudgetSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(BudgetSerializer(budgets_for(_user(request)), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: BudgetSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        community = Region.objects.filter(code=values.pop("community")).first()
        if community is None:
            raise NotFound(_("No community or village has this code."))
        budget = budget_create(actor=_user(request), community=community, **values)
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class BudgetDetailApi(APIView):
    """A budget with its proposals."""

    @extend_schema_serializer(component_name="BudgetDetail")
    class OutputSerializer(BudgetSerializer):
        proposals = ProposalSerializer(many=True, source="proposals.all")
        has_voted = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        from ..budgets import has_voted

        budget = _budget(_user(request), pk)
        budget.has_voted = has_voted(_user(request), budget)  # type: ignore[attr-defined]
        return Response(self.OutputSerializer(budget).data)


class BudgetStateApi(APIView):
    """Move a budget to its next stage (community workers): review, voting, closed, or
    published with a rule."""

    @extend_schema_serializer(component_name="BudgetStateInput")
    class InputSerializer(serializers.Serializer):
        to = serializers.ChoiceField(choices=BudgetState.choices[1:])
        rule = serializers.ChoiceField(choices=Rule.choices, required=False)

    @extend_schema(request=InputSerializer, responses=BudgetSerializer)
    def post(self, request: Request, pk: int) -> Response:
        budget = _budget(_user(request), pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to, actor = data.validated_data["to"], _user(request)
        if to == BudgetState.REVIEW:
            budget = budget_open_review(actor=actor, budget=budget)
        elif to == BudgetState.VOTING:
            budget = budget_open_voting(actor=actor, budget=budget)
        elif to == BudgetState.CLOSED:
            budget = budget_close(actor=actor, budget=budget)
        else:
            budget = budget_publish(
                actor=actor, budget=budget, rule=data.validated_data.get("rule", "")
            )
        return Response(BudgetSerializer(budget).data)


class ProposalSubmitApi(APIView):
    """A resident of the community proposes a project while proposals are open."""

    @extend_schema_serializer(component_name="ProposalInput")
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        kind = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        latitude = serializers.FloatField(required=False, allow_null=True, default=None)
        longitude = serializers.FloatField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: ProposalSerializer})
    def post(self, request: Request, pk: int) -> Response:
        budget = _budget(_user(request), pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = proposal_submit(actor=_user(request), budget=budget, **data.validated_data)
        return Response(ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


class ProposalReviewApi(APIView):
    """The community worker finds a proposal feasible with a cost, or not with a reason."""

    @extend_schema_serializer(component_name="ProposalReviewInput")
    class InputSerializer(serializers.Serializer):
        feasible = serializers.BooleanField()
        cost = serializers.DecimalField(
            max_digits=14, decimal_places=2, required=False, allow_null=True
        )
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=ProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        proposal = Proposal.objects.filter(pk=pk, budget__in=budgets_for(_user(request))).first()
        if proposal is None:
            raise NotFound(_("No such proposal."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = proposal_review(actor=_user(request), proposal=proposal, **data.validated_data)
        return Response(ProposalSerializer(proposal).data)


class BallotApi(APIView):
    """Cast the caller's one secret ballot: the ids of the projects approved."""

    @extend_schema_serializer(component_name="BallotInput")
    class InputSerializer(serializers.Serializer):
        approvals = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)

    @extend_schema_serializer(component_name="BallotReceipt")
    class OutputSerializer(serializers.Serializer):
        budget = serializers.IntegerField(source="budget_id")
        cast_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        # Not limited to the caller's budgets: someone from another community is told
        # why they cannot vote, by the service, rather than "not found".
        budget = Budget.objects.filter(pk=pk).select_related("community").first()
        if budget is None:
            raise NotFound(_("No such participatory budget."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = ballot_cast(
            actor=_user(request), budget=budget, approvals=data.validated_data["approvals"]
        )
        return Response(self.OutputSerializer(receipt).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="BudgetResultRow")
class ResultRowSerializer(serializers.Serializer):
    proposal = serializers.IntegerField(source="proposal.pk")
    title = serializers.CharField(source="proposal.title")
    cost = serializers.DecimalField(source="proposal.cost", max_digits=14, decimal_places=2)
    votes = serializers.IntegerField()
    funded = serializers.BooleanField()
    round = serializers.IntegerField(allow_null=True, help_text="order of funding")
    explanation = serializers.CharField()


@extend_schema_serializer(component_name="BudgetRuleResult")
class RuleResultSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text=", ".join(Rule.values))
    rule_label = serializers.CharField(source="label")
    spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    left = serializers.DecimalField(max_digits=14, decimal_places=2)
    rows = ResultRowSerializer(many=True)


class ResultsApi(APIView):
    """Both rules' results, project by project (published budgets for anyone; closed
    ones for the community's workers)."""

    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="BudgetResults")
    class OutputSerializer(serializers.Serializer):
        budget = BudgetSerializer()
        ballots = serializers.IntegerField()
        receipts = serializers.IntegerField()
        greedy = RuleResultSerializer()
        equal_shares = RuleResultSerializer()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request) if request.user.is_authenticated else None
        budget = Budget.objects.filter(pk=pk).select_related("community").first()
        if budget is None:
            raise NotFound(_("No such participatory budget."))
        return Response(self.OutputSerializer(budget_results(actor=user, budget=budget)).data)


urlpatterns = [
    path("budgets/", BudgetListApi.as_view(), name="budget-list"),
    path("budgets/<int:pk>/", BudgetDetailApi.as_view(), name="budget-detail"),
    path("budgets/<int:pk>/state/", BudgetStateApi.as_view(), name="budget-state"),
    path("budgets/<int:pk>/proposals/", ProposalSubmitApi.as_view(), name="budget-proposals"),
    path("budgets/<int:pk>/ballots/", BallotApi.as_view(), name="budget-ballots"),
    path("budgets/<int:pk>/results/", ResultsApi.as_view(), name="budget-results"),
    path("proposals/<int:pk>/review/", ProposalReviewApi.as_view(), name="proposal-review"),
]
