"""SynthCaps: the procedural corpus of the mini world (see docs/mini_world.md)."""
