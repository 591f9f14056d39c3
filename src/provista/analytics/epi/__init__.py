"""Notifiable-disease statistics (法定传染病统计): rates, standardisation, timeliness, epidemic curves.

Pure functions take pandas tables; ``provista.analytics.epi.warehouse`` computes them from a warehouse.
"""

from provista.analytics.epi.curves import epidemic_curve
from provista.analytics.epi.rates import EpiInputError, incidence, poisson_limits
from provista.analytics.epi.standardise import direct_rate, direct_standardise, indirect_standardise
from provista.analytics.epi.standards import (
    AGE_GROUPS,
    STANDARDS,
    age_group,
    standard_population,
    standard_weights,
)
from provista.analytics.epi.timeliness import DEADLINE_HOURS, reporting_delay, timeliness

__all__ = [
    "AGE_GROUPS",
    "DEADLINE_HOURS",
    "STANDARDS",
    "EpiInputError",
    "age_group",
    "direct_rate",
    "direct_standardise",
    "epidemic_curve",
    "incidence",
    "indirect_standardise",
    "poisson_limits",
    "reporting_delay",
    "standard_population",
    "standard_weights",
    "timeliness",
]
