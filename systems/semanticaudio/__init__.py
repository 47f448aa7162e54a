"""SemanticAudio: Semantic Planner (text -> compact semantic latents), Acoustic Synthesizer
(semantic -> DAC-VAE latents), projection head, FlowEdit editor, training, and the Base Model.

Modules: `dit` (backbone), `flow` (flow matching), `heads`, `encoders` (interfaces and test
encoders), `real_encoders` / `dacvae` (weights-directory encoders), `model`, `pipeline`,
`checkpoint`, `data`, `train`, `adapter`. See docs/semanticaudio.md.
"""
