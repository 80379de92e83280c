"""Fitting: parameters, models, results; latency distributions; calibration; selection.

Least squares in the spirit of lmfit (:class:`Parameters`, :class:`Model`,
:func:`fit` -> :class:`FitResult`) with parameters shared across datasets;
latency-distribution fits (:mod:`pwmodel.fit.distributions`); machine
calibration (:mod:`pwmodel.fit.calibrate`); cross-validated model selection
(:mod:`pwmodel.fit.select`). Fitting never prints or plots by itself.
"""

from pwmodel.fit.parameters import Parameter, Parameters, make
from pwmodel.fit.model import Data, Model
from pwmodel.fit.result import FitResult
from pwmodel.fit.lsq import fit

__all__ = ["Parameter", "Parameters", "make", "Data", "Model", "FitResult", "fit"]
