"""Model definitions, one family a module (``gan``, ``vae``, ``rnn_lm``, ``transformer_lm``…).

Models import nothing from ``training``, ``data`` or ``plot``. Import from the submodule:
``from aigc_course.models.vae import VAE``.
"""
