"""`linli plan sites`: where to build next.

    linli plan sites --kind KIND --region CODE [--candidates FILE] (--k N | --budget AMOUNT)
                     [--radius M] [--weight GROUP=W …] [--model mclp|lscp|pmedian]
                     [--exact/--fast] [--date D] [--out FILE.csv|FILE.geojson]

The operator at the command line is not scoped: the region must be in the deployment.
Every refusal names the option and the reason, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from django.utils.translation import gettext as _

from linli.core.cli import fail
from linli.core.errors import LinliError, ValidationFailed
from linli.core.registry import linli_group

from ..models import SitingModel, SitingRun
from ..sites import (
    CandidateFile,
    candidates_read,
    parse_weights,
    run_sites_csv,
    run_sites_geojson,
    siting_run,
)


def _plan_group() -> click.Group:
    existing = linli_group.commands.get("plan")
    if isinstance(existing, click.Group):
        return existing

    @linli_group.group("plan")
    def plan_group() -> None:
        """Planning: where to build next."""

    return plan_group


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _share(part: float, total: float) -> str:
    return f"{100 * part / total:.1f}%" if total > 0 else "—"


def group_label(code: str) -> str:
    from linli.residents.choices import PriorityGroup

    if not code:
        return str(_("Everyone"))
    return str(PriorityGroup(code).label)


def report_lines(run: SitingRun) -> list[str]:
    """The run as the operator reads it, in their language."""
    r = run.results
    inputs = run.inputs
    lines = [
        _("Siting run #%(id)s: %(model)s, %(kind)s in %(region)s (%(code)s), as of %(day)s")
        % {
            "id": run.pk,
            "model": run.get_model_display(),
            "kind": run.kind,
            "region": run.region.display_name,
            "code": run.region_id,
            "day": run.day.isoformat(),
        }
    ]
    if run.distance_method == "network":
        lines.append(_("Distances: over the walking network."))
    else:
        lines.append(
            _("Distances: straight line × %(factor)s (no walking network for this region).")
            % {"factor": inputs.get("detour_factor")}
        )
        if inputs.get("network_problem"):
            lines.append(
                _("The stored network could not be used: %(problem)s")
                % {"problem": inputs["network_problem"]}
            )
    lines.append(
        _(
            "Radius %(radius)s m; %(points)s population points; %(existing)s existing sites, "
            "%(committed)s committed, %(candidates)s candidates (%(source)s)."
        )
        % {
            "radius": f"{run.parameters.get('radius', 0):,.0f}",
            "points": f"{inputs.get('demand_points', 0):,}",
            "existing": inputs.get("existing_sites", 0),
            "committed": inputs.get("committed_sites", 0),
            "candidates": f"{inputs.get('candidates', 0):,}",
            "source": inputs.get("candidates_source", ""),
        }
    )
    gap = r.get("gap")
    lines.append(
        _("Method: %(method)s; objective %(objective)s, bound %(bound)s, gap %(gap)s; %(s)s s.")
        % {
            "method": r.get("method"),
            "objective": _figure(r.get("objective")),
            "bound": _figure(r.get("bound")),
            "gap": "—" if gap is None else f"{100 * gap:.2f}%",
            "s": r.get("seconds"),
        }
    )
    lines.append("")
    head = (
        f"{'#':>3}  {_('Site'):<24} {_('Latitude'):>10} {_('Longitude'):>11} "
        f"{_('People'):>9} {_('Weighted'):>9} {_('Only here'):>9}"
    )
    lines.append(head)
    for s in r.get("sites", []):
        lines.append(
            f"{s['rank']:>3}  {str(s['name'])[:24]:<24} {s['lat']:>10.5f} {s['lon']:>11.5f} "
            f"{s['people']:>9,.0f} {s['weighted']:>9,.0f} {s['people_alone']:>9,.0f}"
        )
    if not r.get("sites"):
        lines.append(_("No new site is needed."))
    lines.append("")
    lines.append(
        f"{_('Group'):<28} {_('People'):>9} {_('Now'):>15} {_('+ committed'):>15} "
        f"{_('Proposed'):>15}"
    )
    for row in r["coverage"]["people"]:
        total = row["total"]
        cells = [
            f"{row[key]:>8,.0f} {_share(row[key], total):>6}"
            for key in ("current", "committed", "proposed")
        ]
        lines.append(f"{group_label(row['group'])[:28]:<28} {total:>9,.0f} " + " ".join(cells))
    if r.get("distance"):
        lines.append(
            _("Mean walking distance (capped at %(cap)s m): %(before)s m now, %(after)s m after.")
            % {
                "cap": f"{r['distance']['cutoff']:,.0f}",
                "before": _figure(r["distance"]["before_mean"]),
                "after": _figure(r["distance"]["after_mean"]),
            }
        )
    return lines


@click.command("sites")
@click.option("--kind", required=True, help="Facility kind code, e.g. outdoor_fitness.")
@click.option("--region", required=True, help="Region code, e.g. 990102.")
@click.option(
    "--candidates",
    "candidates_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or GeoJSON of candidate sites (id, name, lat, lon, cost).",
)
@click.option("--k", "k", help="Number of new sites.")
@click.option("--budget", help="Budget (needs costs in the candidates file).")
@click.option("--radius", help="Walking radius in metres (default 1000).")
@click.option("--weight", "weights", multiple=True, help="GROUP=W: extra weight per person.")
@click.option(
    "--model",
    type=click.Choice(SitingModel.values),
    default=SitingModel.MCLP.value,
    show_default=True,
)
@click.option("--exact/--fast", default=True, show_default=True, help="HiGHS or greedy+swap.")
@click.option("--date", "day", help="Facilities open on this date (YYYY-MM-DD; default today).")
@click.option("--time-limit", type=float, help="Seconds for the exact solve (default 120).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=".csv or .geojson")
def sites_command(
    kind: str,
    region: str,
    candidates_path: Path | None,
    k: str | None,
    budget: str | None,
    radius: str | None,
    weights: tuple[str, ...],
    model: str,
    exact: bool,
    day: str | None,
    time_limit: float | None,
    out: Path | None,
) -> None:
    """Choose where new facilities of a kind would serve the most people."""
    try:
        if out is not None and out.suffix.lower() not in (".csv", ".geojson", ".json"):
            raise ValidationFailed(
                fields={"out": [_("Write the sites to a .csv or a .geojson file.")]}
            )
        when: dt.date | None = None
        if day:
            try:
                when = dt.date.fromisoformat(day)
            except ValueError:
                raise ValidationFailed(
                    fields={"date": [_("Not a date: write it as YYYY-MM-DD.")]}
                ) from None
        candidates: CandidateFile | None = None
        if candidates_path is not None:
            try:
                content = candidates_path.read_bytes()
            except OSError as error:
                raise ValidationFailed(
                    fields={
                        "candidates": [
                            _("Cannot read %(path)s: %(reason)s")
                            % {"path": candidates_path, "reason": error.strerror}
                        ]
                    }
                ) from None
            candidates = candidates_read(content=content, filename=candidates_path.name)
        options: dict[str, Any] = {
            "k": k,
            "budget": budget,
            "radius": radius,
            "weights": parse_weights(weights),
            "model": model,
            "exact": exact,
            "candidates": candidates,
            "day": when,
            "time_limit": time_limit,
        }
        run = siting_run(actor=None, region_code=region, kind=kind, via="cli", **options)
    except LinliError as error:
        raise fail(error) from error
    for line in report_lines(run):
        click.echo(line)
    if out is not None:
        text = run_sites_csv(run) if out.suffix.lower() == ".csv" else run_sites_geojson(run)
        out.write_text(text, encoding="utf-8")
        click.echo(_("Sites written to %(path)s.") % {"path": out})


_plan_group().add_command(sites_command)
