"""SemanticVocoder adapter: reconstruction (Dasheng-base encoder + generative vocoder); see adapter.py."""
