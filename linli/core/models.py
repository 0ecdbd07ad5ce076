from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoStepRun(models.Model):
    """A demo-builder step that has run here, so a second build adds only what is missing."""

    name = models.CharField(_("step"), max_length=64, unique=True)
    seed = models.IntegerField(_("seed"))
    scale = models.CharField(_("scale"), max_length=16)
    finished_at = models.DateTimeField(_("finished at"), auto_now_add=True)

    class Meta:
        verbose_name = _("demo step run")
        verbose_name_plural = _("demo step runs")
        ordering = ["finished_at"]

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    """One run of a periodic job (linli.core.tasks.PERIODIC_JOBS), whoever ran it.

    Failed, skipped and late runs stay visible here: a job is never silently skipped."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    name = models.CharField(_("job"), max_length=100)
    runner = models.CharField(_("run by"), max_length=20)
    # When the schedule wanted it; started_at minus due_at is how late it ran (a gap
    # while the process was down shows here). Empty for a job's first run.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    # What the job did ("raised 3"), why it was skipped, or the error.
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="job_run_latest")]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
