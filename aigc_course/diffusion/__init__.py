"""Diffusion and flow matching: schedules, samplers, losses and exact toy densities.

Pure functions of tensors (the network only predicts; the schedule and the update rule
live here, as in diffusers' schedulers):

* :mod:`.schedule`: :class:`NoiseSchedule`, linear and cosine schedules, ``q_sample``,
  ``q_posterior``;
* :mod:`.samplers`: ``predict_x0``, ``ddpm_step``, ``ddim_step``, ``guided``,
  ``sample_eps``, ``sample_flow``, ``nfe``;
* :mod:`.flow`: the straight path of flow matching and its Euler / Heun steps;
* :mod:`.losses`: ``eps_loss`` (L_simple) and ``flow_loss``;
* :mod:`.toy`: exact noised Gaussian-mixture densities and scores.
"""

from .flow import euler_step, flow_interpolate, flow_target, heun_step
from .losses import eps_loss, flow_loss
from .samplers import (
    ddim_step,
    ddpm_step,
    guided,
    leading_timesteps,
    nfe,
    predict_x0,
    sample_eps,
    sample_flow,
)
from .schedule import (
    NoiseSchedule,
    cosine_schedule,
    get_schedule,
    linear_schedule,
    q_posterior,
    q_sample,
)
from .toy import noised_gmm_logpdf, noised_gmm_score

__all__ = [
    "NoiseSchedule",
    "cosine_schedule",
    "ddim_step",
    "ddpm_step",
    "eps_loss",
    "euler_step",
    "flow_interpolate",
    "flow_loss",
    "flow_target",
    "get_schedule",
    "guided",
    "heun_step",
    "leading_timesteps",
    "linear_schedule",
    "nfe",
    "noised_gmm_logpdf",
    "noised_gmm_score",
    "predict_x0",
    "q_posterior",
    "q_sample",
    "sample_eps",
    "sample_flow",
]
