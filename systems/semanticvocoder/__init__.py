"""SemanticVocoder adapter (blocked: see adapter.py)."""
