"""Evaluation: ``metrics.image`` (classifier-based image metrics, Fréchet distance) and
``metrics.text`` (bits per character, diversity). Import from the submodule."""
