"""Hospital operations (医院运营): national indicators, peer comparison, page views and operational alerts.

Indicators are defined once in ``indicators.yaml`` (definitions.py) and computed by the engine
(measures.py, indicators.py); ``views.py`` serves the page's hospital-level charts; ``alerts.py`` raises
rule-based alerts (``alert_rules.yaml``) on every build.
"""

from provista.analytics.operations.definitions import Indicator, load_definitions
from provista.analytics.operations.indicators import indicator_table, peer_rank, peer_statistics

__all__ = ["Indicator", "indicator_table", "load_definitions", "peer_rank", "peer_statistics"]
