"""TangoFlux adapter (declare-lab/TangoFlux)."""
