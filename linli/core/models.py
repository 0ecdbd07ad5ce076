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
