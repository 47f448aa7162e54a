"""Mini-world backbones trained on SynthCaps (see docs/mini_world.md)."""
