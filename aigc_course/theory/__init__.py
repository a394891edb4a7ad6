"""Numeric checks of the course's derivations (quadrature, exact sums, closed forms).

Import from the submodule: ``from aigc_course.theory.gan import optimal_discriminator``.
"""
