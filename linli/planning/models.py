"""Plan indicators as records: what each measures, how to compute it, and its targets.

An indicator is a ratio, numerator / denominator × scale, computed per community or
village and rolled up the region tree by adding numerators and denominators
(linli/planning/indicators.py). Targets and baselines are per year and per region: a
row without a region is the national default, and a region's own row wins over its
ancestors' (linli/planning/selectors.py, `target_for`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import Direction, Origin, Section, Unit


class Indicator(models.Model):
    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                _("Use lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    section = models.CharField(_("section"), max_length=20, choices=Section.choices)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    direction = models.CharField(
        _("direction"), max_length=4, choices=Direction.choices, default=Direction.UP
    )
    numerator_text = models.TextField(_("numerator (definition)"), blank=True)
    denominator_text = models.TextField(_("denominator (definition)"), blank=True)
    # value = numerator / denominator × scale: 100 for a percentage, 100 for "per 100
    # households", 10,000 for "per 10,000 residents".
    scale = models.DecimalField(
        _("scale"),
        max_digits=12,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
    )
    # A declarative computation (linli/planning/specs.py); empty means the built-in one
    # for this code, if Linli has one, else "no data".
    spec = models.JSONField(_("computation"), null=True, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    source = models.TextField(_("source"), blank=True)
    # What the file says beyond the ratio: a life circle's walking distance and facility
    # kinds, a facility rule's minimum area.
    details = models.JSONField(_("details"), default=dict, blank=True)
    origin = models.CharField(
        _("origin"), max_length=12, choices=Origin.choices, default=Origin.DEPLOYMENT
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("shown"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self) -> str:
        """The English name when the page is in English and one is known."""
        language = get_language() or ""
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def unit_symbol(self) -> str:
        return {"percent": "%", "m2": "m²"}.get(self.unit, "")


class IndicatorTarget(models.Model):
    """A target (or, with `is_baseline`, a baseline) of an indicator for a year.

    No region: the default shipped with Linli. A region: that region's own figure, which
    wins over its ancestors' and the default for itself and everything below it.
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="targets"
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicator_targets",
        help_text=_("Empty for the default that applies everywhere."),
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1949)])
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=3)
    is_baseline = models.BooleanField(_("baseline"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["indicator", "region_id", "year", "is_baseline"]
        constraints = [
            # Two constraints, because NULL regions are distinct in a plain unique key.
            models.UniqueConstraint(
                fields=["indicator", "region", "year", "is_baseline"],
                condition=models.Q(region__isnull=False),
                name="indicator_target_unique_per_region",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "is_baseline"],
                condition=models.Q(region__isnull=True),
                name="indicator_target_unique_default",
            ),
        ]

    def __str__(self) -> str:
        kind = "baseline" if self.is_baseline else "target"
        return f"{self.indicator.code} {kind} {self.year} {self.region_id or '*'}: {self.value}"


# --- Where to build next (linli/planning/sites.py) ------------------------------------------


class SitingModel(models.TextChoices):
    MCLP = "mclp", _("Maximal covering (most people within reach)")
    LSCP = "lscp", _("Set covering (everyone within reach, fewest sites)")
    PMEDIAN = "pmedian", _("p-median (least total walking distance)")


class SitingRun(models.Model):
    """One answer to "where should the next facilities of a kind go", kept as it was given.

    The parameters, the dates of the inputs (facilities open on `day`, the network's build
    time, the residents' tallies) and the whole result are stored, so a run can be shown
    and compared later even after the directory or the register have changed. Written once
    by `sites.siting_run`, never edited.
    """

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="siting_runs",
    )
    kind = models.CharField(_("facility kind"), max_length=40)
    model = models.CharField(_("model"), max_length=10, choices=SitingModel.choices)
    exact = models.BooleanField(_("exact solution"), default=False)
    day = models.DateField(_("as of"))
    parameters = models.JSONField(_("parameters"), default=dict)
    inputs = models.JSONField(_("inputs"), default=dict)
    results = models.JSONField(_("results"), default=dict)
    distance_method = models.CharField(_("distance method"), max_length=20)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    via = models.CharField(_("run from"), max_length=10, default="web")
    created_at = models.DateTimeField(_("run at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("siting run")
        verbose_name_plural = _("siting runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.model} {self.kind} {self.region_id} #{self.pk}"


# --- Road networks and accessibility runs (linli/planning/networks.py, accessibility.py) ---


class NetworkSource(models.TextChoices):
    OSM = "osm", _("OpenStreetMap extract")
    SYNTHETIC = "synthetic", _("Synthetic (demo)")


class DistanceMethod(models.TextChoices):
    NETWORK = "network", _("Walking network")
    STRAIGHT_LINE = "straight_line", _("Straight line × detour factor")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RoadNetwork(models.Model):
    """A region's walking network: the record says where it came from; the arrays are one
    compressed .npz file (engine ``Network.save``) under LINLI_PLANNING_NETWORK_DIR.

    Why a file and not a BinaryField: a city's network is tens of megabytes; as a row it
    would travel through every backup, dump and ``SELECT *``, and PostgreSQL would hold it
    twice in memory on the way out. The file is named by its content hash, so a new import
    never overwrites the one a running analysis is reading, and ``sha256`` proves it is the
    file this record describes.
    """

    region = models.OneToOneField(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="road_network",
    )
    source = models.CharField(_("source"), max_length=12, choices=NetworkSource.choices)
    source_name = models.CharField(_("source file"), max_length=255, blank=True)
    source_sha256 = models.CharField(_("source file SHA-256"), max_length=64, blank=True)
    file = models.CharField(_("stored file"), max_length=255)
    sha256 = models.CharField(_("stored file SHA-256"), max_length=64)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    nodes = models.PositiveIntegerField(_("nodes"))
    edges = models.PositiveIntegerField(_("edges"))
    components = models.PositiveIntegerField(_("connected parts"))
    min_lon = models.FloatField(_("west"))
    min_lat = models.FloatField(_("south"))
    max_lon = models.FloatField(_("east"))
    max_lat = models.FloatField(_("north"))
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    built_at = models.DateTimeField(_("built at"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("built by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("road network")
        verbose_name_plural = _("road networks")
        ordering = ["region_id"]

    def __str__(self) -> str:
        return f"{self.region_id} {self.source} ({self.nodes} nodes)"


class AccessibilityRun(models.Model):
    """One accessibility analysis of a region for a facility kind as of a date: its
    parameters, the dates of its inputs and its results (per community and per facility,
    as compact JSON lists; see linli/planning/accessibility.py for the layout)."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="accessibility_runs",
    )
    kind = models.CharField(_("facility kind"), max_length=40)
    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    distance_method = models.CharField(
        _("distances"), max_length=16, choices=DistanceMethod.choices, blank=True
    )
    network = models.ForeignKey(
        RoadNetwork,
        verbose_name=_("road network"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    inputs = models.JSONField(_("inputs' dates"), default=dict, blank=True)
    results = models.JSONField(_("results"), null=True, blank=True)
    # The headline figures, kept as columns so that lists need not read the results.
    population = models.FloatField(_("population"), null=True, blank=True)
    share_walk = models.FloatField(_("share within the 15-minute walk"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Progress of a run split by county (one task each): parts finished of parts planned.
    partitions_total = models.PositiveIntegerField(_("counties"), default=0)
    partitions_done = models.PositiveIntegerField(_("counties done"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("accessibility run")
        verbose_name_plural = _("accessibility runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["region", "kind", "as_of"])]

    def __str__(self) -> str:
        return f"{self.region_id} {self.kind} {self.as_of} ({self.status})"


class AccessibilityPart(models.Model):
    """One county's share of an accessibility run: the unit a worker computes.

    One row per (run, county), written by the county's task; running the task again
    replaces the row's results, so a redelivered task does no harm. When the last part is
    done the run's results are merged from the parts (linli/planning/accessibility.py).
    """

    run = models.ForeignKey(
        AccessibilityRun,
        verbose_name=_("accessibility run"),
        on_delete=models.CASCADE,
        related_name="parts",
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    results = models.JSONField(_("results"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    seconds = models.FloatField(_("seconds (wall)"), null=True, blank=True)
    cpu_seconds = models.FloatField(_("seconds (CPU)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("accessibility run part")
        verbose_name_plural = _("accessibility run parts")
        ordering = ["run", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "region"], name="accessibility_part_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.region_id} ({self.status})"
