"""Dispatch: which responder serves which request.

`candidates_for` lists who may serve one request; `dispatch_urgent` assigns an
urgent request at once; `dispatch_round` solves every waiting request together
as one minimum-cost assignment; `greedy_round` is the one-at-a-time comparison.
See docs/architecture.md, "Dispatch".
"""

from .problem import Problem, load_responders, problem_build
from .rounds import (
    Candidate,
    RoundOutcome,
    candidates_for,
    candidates_for_many,
    dispatch_round,
    dispatch_urgent,
    explanation_text,
    greedy_round,
    problem_load,
    round_run,
)
from .solvers import Plan, Score, plan_greedy, plan_optimal, score

__all__ = [
    "Candidate",
    "Plan",
    "Problem",
    "RoundOutcome",
    "Score",
    "candidates_for",
    "candidates_for_many",
    "dispatch_round",
    "dispatch_urgent",
    "explanation_text",
    "greedy_round",
    "load_responders",
    "plan_greedy",
    "plan_optimal",
    "problem_build",
    "problem_load",
    "round_run",
    "score",
]
