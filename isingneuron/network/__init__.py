"""Neural inference with lattice neurones: a ReLU network whose hidden units are Ising membranes.

The paper's claim is that an artificial activation function (ReLU, ...) is the
mean field of a lattice neurone. This package puts that to a working test: a
small ReLU network is trained on scikit-learn's bundled handwritten digits
(``load_digits``: 1,797 images of 8 x 8 pixels, nothing downloaded), and every
hidden unit is then replaced by an L x L Ising membrane.

Pipeline
--------
1. **Calibration** (once per L, dynamics, reheating rate and boundary): a
   :class:`~isingneuron.schedules.Population` of quenches on a grid of depths
   ``Q`` (``calibration.depths`` depths from 0 to ``Q_max``, ``calibration.replicas``
   trials each) gives the transfer curve S(Q) (spike count = sweeps with
   ``m >= theta``). A rectifier ``S = g max(0, Q - Q_theta)`` is fitted to the
   mean curve (:func:`isingneuron.activation.fit_transfer`, model ``"relu"``):
   threshold ``Q_theta`` (J) and slope ``g`` (sweeps/J).
2. **Mapping** (:class:`DepthMapping`): a hidden unit's input ``z = w.x + b``
   becomes the quench depth ``Q = clip(Q_theta + z / g', 0, Q_max)`` with a
   gain ``g'`` (activation units per J) chosen from the calibration so that a
   reference input ``z_ref`` of the unit lands on ``Q_max``:
   ``g' = z_ref / (Q_max - Q_theta)``. ``z_ref`` is a quantile (the
   *headroom*) of the unit's training inputs; with ``headroom: auto`` it is
   picked by :func:`choose_headroom`, which runs the network on the training
   images with units resampled from the calibration (a smaller ``z_ref``
   spreads the inputs over more sweeps, so the spike-count noise weighs less,
   but saturates the largest inputs). The depth is clipped at 0 (a quench
   cannot heat the membrane) and at ``Q_max < bath`` (T must stay > 0); both
   clips are reported. The unit's output is its spike count converted back to
   the ReLU scale, ``a = S g' / g``. A membrane replaced by its calibrated
   rectifier therefore returns ``max(0, z)`` exactly (for ``z <= z_ref``).
3. **Inference**: all (image, unit, trial) triples of a layer are the replicas
   of **one** population (random-sequential kinetics, the engine's default),
   advanced together; membranes whose quench is over are dropped as it goes
   (:func:`quench_population`). The spike counts of layer l set the depths of
   layer l + 1; the output layer reads the converted hidden outputs linearly,
   as the trained network does.

The same network is also run with two other kinds of unit under the same
protocol, each with its own calibration and gain: mean-field Glauber units (the
ODE ``tau dm/dt = -m + tanh(Tc m / T(t))`` with Onsager's Tc, i.e. reduced units;
tabulated on a depth grid of spacing ``rate / 4`` J and interpolated: its spike
count is a deterministic function of Q) and quasi-static exact units (the
dwell ``max(0, Q - Q_qs) / r`` of a membrane on Onsager's equilibrium curve,
``Q_qs = bath - T(m = theta) = 0.968 J``).

Units: J = k_B = 1; temperatures and depths in J; time and spike counts in
sweeps; rates in J/sweep; the rectifier slope g in sweeps/J; the gain g' in
activation units per J.

Usage
-----
``python -m isingneuron.network OUTDIR [--quick] [--layers 1|2|both] [--config FILE]``
writes ``network.json``, ``network.md`` and ``network.png`` / ``network.pdf``;
:func:`run` does the same from Python and returns a :class:`NetworkResult`.
The lattice part is configured by ``configs/network.yaml`` (the defaults of
:data:`DEFAULTS`). Needs scikit-learn (the ``paper`` extra:
``pip install -e ".[paper]"``).

Layout
------
One module per concern; data flows down the list (the summary, report and
figure only read a finished run's results).

``config``       :data:`DEFAULTS`, :func:`load_config`, :class:`NetworkConfigError`.
``data``         the digits and their split, the trained :class:`ReluNetwork`.
``population``   :func:`quench_population`: many membranes in one engine run; seeds.
``calibration``  :class:`Calibration`: transfer curves and fitted rectifiers.
``mapping``      :class:`DepthMapping`: inputs -> depths, spike counts -> ReLU scale.
``units``        rectifier, quasi-static, mean-field, surrogate and lattice units.
``inference``    :func:`forward`: the network run with a kind of unit.
``headroom``     :func:`choose_headroom`: the gain's headroom, from training images.
``scoring``      accuracies, binomial errors, confusion matrices, error budgets.
``result``       :class:`NetworkResult`.
``experiment``   :func:`run`: the plan, the calibrations, the runs.
``summary``      the contents of ``network.json``.
``report``       ``network.md``.
``figure``       ``network.png`` / ``network.pdf``.
``cli``          :func:`main` (``python -m isingneuron.network``).
"""

from .calibration import (Calibration, calibrate_lattice, calibrate_meanfield,
                          calibrate_quasi_static)
from .cli import main
from .config import DEFAULTS, NetworkConfigError, load_config
from .data import Digits, ReluNetwork, load_digits_split, train_relu_network
from .experiment import run
from .headroom import choose_headroom
from .inference import Forward, LayerRecord, forward
from .mapping import DepthMapping
from .population import PopulationSpikes, n_sweeps_for, quench_population
from .result import NetworkResult
from .scoring import binomial, confusion
from .units import (LatticeUnits, MeanFieldUnits, QuasiStaticUnits, RectifierUnits,
                    SurrogateUnits)

__all__ = ["DEFAULTS", "NetworkConfigError", "load_config", "Digits", "load_digits_split",
           "ReluNetwork", "train_relu_network", "Calibration", "calibrate_lattice",
           "calibrate_meanfield", "calibrate_quasi_static", "DepthMapping", "RectifierUnits",
           "QuasiStaticUnits", "MeanFieldUnits", "LatticeUnits", "SurrogateUnits",
           "choose_headroom", "quench_population",
           "forward", "binomial", "NetworkResult", "run", "main",
           "n_sweeps_for", "PopulationSpikes", "LayerRecord", "Forward", "confusion"]
