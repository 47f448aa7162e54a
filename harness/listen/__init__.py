"""Listening tests (`sabench listen`): MOS, MOS for edits and A/B preference studies built from
stored runs, served by a small web server, stored in the results store, analysed with
rater- and item-aware confidence intervals.

Modules: `design` (what is rated, the seeded item draw, controls, rater tokens and orders),
`playback` (loudness-normalised bare WAV copies, low anchor, loudness-check clip), `store`
(the listening tables in results.sqlite), `server` + `pages` (Starlette app), `analysis`
(MOS + two-way bootstrap CI, screening, A/B, Krippendorff's alpha), `exchange` (CSV export
and import), `simulate` (simulated raters over HTTP), `cmd` (the command), `report` (MOS for
the report tables and the HTML listening section). Method and setup: docs/listening.md.
"""
