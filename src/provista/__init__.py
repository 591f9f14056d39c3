"""Provista (省医疗大数据可视化分析与应用平台): a provincial health-data platform."""

__version__ = "0.1.0"
