"""isingneuron: a neurone's spike as an Ising phase transition.

The membrane is an L x L lattice of ion channels (spins), a synaptic input is a
temperature quench, the spike is the time the lattice spends magnetised. See
the README for the idea and the two set-up commands.

Main entry points
-----------------
simulate, Lattice        run R replicas under a temperature protocol (engine)
Simulation               the run API with attached writers (recorder)
equilibrium              equilibrium averages with error bars
schedules                Quench, QuenchTrain, Ramp, Table, Population, ...
exact, meanfield         Onsager's results; the paper's mean-field theory
activation, spikes       eq. (2), S(Q), fits; spike counts from traces
stats                    binning, autocorrelation time, jackknife
"""
from ._version import __version__
from .traces import Traces
from .engine import Lattice, simulate
from .simulation import Simulation
from .equilibrium import equilibrium
from . import activation, exact, meanfield, spikes, stats

__all__ = ["__version__", "Traces", "Lattice", "simulate", "Simulation", "equilibrium",
           "activation", "exact", "meanfield", "spikes", "stats"]

from . import schedules
from .schedules import (Constant, Population, Quench, QuenchTrain, Ramp, Schedule,
                        ScheduleError, Table)

__all__ += ["schedules", "Schedule", "ScheduleError", "Constant", "Quench",
            "QuenchTrain", "Ramp", "Table", "Population"]
