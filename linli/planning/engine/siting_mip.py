"""Thin HiGHS (highspy) wrapper: pass a column-wise model, an optional start, read the bound."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MipOutcome:
    values: FloatArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    nodes: int


_first_solver = threading.Lock()
_banner_done = False


def _new_highs() -> highspy.Highs:
    """A solver, without the banner HiGHS prints on stdout when a process makes its first
    one (whatever its options): a command's stdout carries its table or CSV, nothing else.
    The first solver is made with file descriptor 1 pointed at /dev/null."""
    global _banner_done
    with _first_solver:
        if _banner_done:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as sink:
                os.dup2(sink.fileno(), 1)
                solver = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_done = True
        return solver


def solve(
    *,
    matrix: sp.csc_matrix,
    cost: FloatArray,
    col_lower: FloatArray,
    col_upper: FloatArray,
    row_lower: FloatArray,
    row_upper: FloatArray,
    integer: npt.NDArray[np.bool_],
    maximize: bool,
    start: FloatArray | None = None,
    mip_rel_gap: float = 1e-3,
    time_limit: float | None = None,
    relax: bool = False,
    options: Mapping[str, bool | int | float | str] | None = None,
) -> MipOutcome:
    """Solve min/max cost·x s.t. row_lower ≤ A x ≤ row_upper, bounds, integrality.

    `relax=True` drops integrality (the LP relaxation, used as a bound). The HiGHS random
    seed is fixed so runs are repeatable. `options` are further HiGHS options (name → value),
    set last so they can override the defaults above.
    """
    started = time.perf_counter()
    csc = sp.csc_matrix(matrix, dtype=np.float64)
    csc.sort_indices()
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    integrality = (
        np.zeros(csc.shape[1], dtype=np.int32)
        if relax
        else np.where(integer, 1, 0).astype(np.int32)
    )
    sense = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp = highspy.HighsLp()
    lp.num_col_ = int(csc.shape[1])
    lp.num_row_ = int(csc.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.sense_ = sense
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.a_matrix_.num_col_ = int(csc.shape[1])
    lp.a_matrix_.num_row_ = int(csc.shape[0])
    if not relax:
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    h.passModel(lp)
    if start is not None and not relax:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64)
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    if relax:
        bound, gap, nodes = objective, 0.0, 0
    else:
        bound, gap, nodes = float(info.mip_dual_bound), float(info.mip_gap), info.mip_node_count
    return MipOutcome(
        values=values,
        objective=objective,
        bound=bound,
        gap=gap,
        status=status,
        seconds=time.perf_counter() - started,
        nodes=int(nodes),
    )
