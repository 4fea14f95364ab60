"""The paper, reproduced: every claim of sections II.C, II.D and III.A as an experiment.

Each experiment is a function that returns its data (a dataclass of arrays and
fit summaries) and, given ``outdir``, writes its figure as PNG and PDF:

=========================  ==================================================  ===========
function                   what it shows                                       figure
=========================  ==================================================  ===========
:func:`magnetisation`      m(T): mean field (Tc = 4 J; Tc = 1 reduced),        fig1
                           Onsager's exact curve, Wolff Monte Carlo for
                           several L, in J and in T/Tc
:func:`eq2_fits`           the firing branch fitted by eq. (2): a and Tc       fig2
                           with errors, for mean field, exact and Monte Carlo
:func:`activation`         spike count (dwell time at m >= theta, and the      fig3
                           area under m) against quench depth Q for a
                           membrane at rest above Tc with a + border, for
                           Metropolis and Glauber and several L, beside the
                           quasi-static exact prediction, mean-field Glauber
                           dynamics, the paper's S(Q) and fitted ReLU /
                           softplus; and the pitfall: checkerboard
                           Metropolis (unphysical kinetics) beside it
:func:`periodic_outcomes`  the same quench with periodic boundaries and        fig4
                           h = 0: fractions ending at m = +1, m = -1 or in
                           stripes
:func:`population`         Gaussian quench depths (paper III.A): fraction      fig5
                           firing against the mean input, an error function
:func:`membrane`           m(t), T(t) for a few depths; lattice snapshots      fig6, fig7,
                           before, during and after a spike; a GIF             membrane.gif
=========================  ==================================================  ===========

Four studies go beyond the paper's figures; :func:`run_all` runs them only with
``studies=True`` (``--studies``), at modest sizes, and each also reads the full
grid of its config (``configs/studies/``, run by ``isingneuron run``) with
``source=FILE`` (``--study-from NAME=FILE``; ``scripts/`` has an entry script per
study):

=========================  ==================================================  ===========
function                   what it shows                                       figure
=========================  ==================================================  ===========
:func:`relu_regime`        where the ReLU holds in (L, r, h): ordering times   fig8
                           t_order(L, T, h), transfer curves with a verdict,
                           their scaling collapse, the phase diagram in the
                           (L, 1/r) plane, field rescue, mean field vs L
:func:`spike_trains`       quench trains: f-I curves, refractory interval,     fig9
                           adaptation; lattice against mean field
:func:`sparse_codes`       heterogeneous inputs (III.A): silent fraction and   fig10
                           Treves-Rolls sparseness against the mean input
:func:`criticality`        gain and threshold as the rest approaches Tc        fig11
                           (III.C): small-signal and above-threshold gain
=========================  ==================================================  ===========

:func:`run_all` runs them all (measured 40-50 s wall, ~75 s of CPU, on 2
cores with the default sizes, 85 s when the cores were shared with other
work; 10-16 s with ``quick=True``) and writes ``params.csv`` /
``params.json`` (every fitted number with its error, beside the paper's value),
``results.json`` and ``report.md`` (the numbers beside the paper's claims,
with the places where the lattice departs from it)::

    python -m isingneuron.paper OUTDIR [--quick]

Kinetics. A spike is a *kinetic* quantity (how long the membrane stays
ordered after a quench), so every experiment with a quench runs physical
kinetics: single-spin Metropolis or Glauber with random-sequential updates (N
uniformly random site picks per sweep, the kinetics of Glauber's master
equation; tested against exact master equations in
``tests/test_kinetics_exact.py`` and against the coarsening literature in
``tests/test_kinetics_literature.py``). Each such experiment takes an
``update`` argument (default ``"random_sequential"``), passes it to
:class:`isingneuron.Simulation` and records the order used in its result.
Checkerboard Metropolis is an equilibrium sampler only: it accepts zero-energy
flips with probability 1 and updates a whole sublattice at once, so diagonal
domain walls move ballistically and a lattice orders in ~L instead of ~L**2
sweeps. :func:`activation` runs it once, deliberately, beside random-sequential
Metropolis (``pitfall_L``), to show what it does to the transfer curve. The
equilibrium experiment (:func:`magnetisation`) has no kinetics: it samples
with Wolff clusters through :func:`isingneuron.equilibrium`.

Conventions: J = k_B = 1; temperatures and quench depths in J unless said
(reduced units ``T / Tc``, each theory its own Tc); time in sweeps; the spike
count in sweeps. Error bars are one standard error: over independent replicas
for spike counts, from binning for equilibrium averages, from the fit
covariance for fitted parameters (scaled by the residuals when the data are a
noiseless theory curve). Nothing is hidden: an experiment whose numbers
disagree with the paper reports them as they are.

The activation analysis (:func:`analyse_transfer`) takes traces from anywhere:
runs computed here through :class:`isingneuron.Simulation`, a mapping
``{depth: Traces}`` built by hand, or the HDF5 file of a sweep written by
``isingneuron run`` (:func:`load_quench_runs`); ``configs/paper/`` holds such
sweeps.

Layout. One module per experiment, the tables and the report on their own; the
analysis the experiments share lives in the analysis layer, which never imports
this package (data flow one way), and is re-exported here:

==============================  ==================================================
module                          contents
==============================  ==================================================
``paper/_common.py``            protocol, :data:`SIZES`, :data:`KINETICS_MEASURED`,
                                seeds, progress bars, number formatting
``paper/fig_magnetisation.py``  :func:`magnetisation`, :func:`eq2_fits` (figs 1-2)
``paper/fig_activation.py``     :func:`activation`, :func:`pitfall_comparison` (fig 3)
``paper/fig_outcomes.py``       :func:`periodic_outcomes` (fig 4)
``paper/fig_population.py``     :func:`population` (fig 5)
``paper/fig_membrane.py``       :func:`membrane` (figs 6-7, GIF)
``paper/fig_relu_regime.py``    :func:`relu_regime`, :func:`ordering_times`,
                                :func:`threshold_depth` (fig 8)
``paper/fig_spike_trains.py``   :func:`spike_trains` (fig 9)
``paper/fig_sparse.py``         :func:`sparse_codes` (fig 10)
``paper/fig_criticality.py``    :func:`criticality` (fig 11)
``paper/measures.py``           the studies' measures (Treves-Rolls, refractory
                                interval, ReLU classifier, collapse, ...)
``paper/_study_io.py``          reading the studies' sweep files point by point
``paper/_meanfield_fast.py``    mean-field Glauber dynamics for many protocols
``paper/report_studies.py``     the report's sections on the studies
``paper/tables.py``             :func:`parameter_table`, :func:`write_tables`,
                                ``results.json``
``paper/report.py``             :func:`write_report`, one function per section
``paper/report_activation.py``  the report's sections on fig 3 and the pitfall
``paper/run.py``                :func:`run_all`, :func:`main` (``__main__.py``)
``isingneuron/transfer.py``     :func:`analyse_transfer`, :class:`TransferCurveData`,
                                :func:`load_quench_runs`, :func:`paper_spike_count`,
                                :func:`paper_dwell_time`, the protocol constants
``isingneuron/spikes.py``       :func:`classify_lattices`
``isingneuron/activation.py``   :func:`erf_response`,
                                :func:`isingneuron.activation.probit_fit`
==============================  ==================================================
"""

from __future__ import annotations

from ..activation import erf_response
from ..spikes import classify_lattices
from ..transfer import (AT, BATH, PAPER, RATE, THETA, TransferCurveData, analyse_transfer,
                        load_quench_runs, paper_dwell_time, paper_spike_count)
from ._common import KINETICS_MEASURED, SIZES, UPDATE
from .fig_magnetisation import Eq2Result, MagnetisationResult, eq2_fits, magnetisation
from .fig_activation import ActivationResult, activation, pitfall_comparison
from .fig_outcomes import CATEGORIES, OutcomeResult, periodic_outcomes
from .fig_population import PopulationResult, population
from .fig_membrane import MembraneResult, membrane
from .fig_relu_regime import ReluRegimeResult, ordering_times, relu_regime, threshold_depth
from .fig_spike_trains import SpikeTrainResult, spike_trains
from .fig_sparse import SparseCodeResult, sparse_codes
from .fig_criticality import CriticalityResult, criticality
from ._common import EXPERIMENTS, STUDIES
from . import measures
from .tables import parameter_table, write_tables
from .report import write_report
from .run import main, run_all

# private helpers that the tests reach as ``paper._name`` (kept for compatibility)
from ..transfer import _fit_best, _starts                      # noqa: E402,F401
from .fig_activation import _activation_figure                 # noqa: E402,F401

__all__ = [
    "PAPER", "BATH", "RATE", "AT", "THETA", "UPDATE", "SIZES", "KINETICS_MEASURED",
    "MagnetisationResult", "magnetisation",
    "Eq2Result", "eq2_fits",
    "TransferCurveData", "ActivationResult", "analyse_transfer", "load_quench_runs",
    "activation", "pitfall_comparison", "paper_spike_count", "paper_dwell_time",
    "OutcomeResult", "CATEGORIES", "classify_lattices", "periodic_outcomes",
    "PopulationResult", "population", "erf_response",
    "MembraneResult", "membrane",
    "EXPERIMENTS", "STUDIES", "measures",
    "ReluRegimeResult", "relu_regime", "ordering_times", "threshold_depth",
    "SpikeTrainResult", "spike_trains", "SparseCodeResult", "sparse_codes",
    "CriticalityResult", "criticality",
    "parameter_table", "write_tables", "write_report", "run_all", "main",
]
