"""Reports: paper tables (`tables`), renderers (`render`: Markdown, LaTeX, CSV, JSON), HTML
(`html`), figures (`plots`) and the regression gate (`gate`).

`build_report(runs, out_dir, formats=..., title=..., audio_for=..., compare_to=...) -> {format: path}`
writes them all (`compare_to`: paired differences vs a baseline system, `paired`); every table
and page names the profile (mini numbers are never paper numbers).
"""

from reports.build import FORMATS, ReportPaths, build_report, folder_audio

__all__ = ["build_report", "folder_audio", "ReportPaths", "FORMATS"]
