"""Plain, readable training loops (one module a model family).

Import from the submodule: ``from aigc_course.training.gan import train_gan``.
"""
