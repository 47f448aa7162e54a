"""Reports: paper tables, renderers, plots, HTML, regression gate."""
