"""The web pages (static ES modules, ECharts from npm served locally) and the map boundaries."""
