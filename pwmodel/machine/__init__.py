"""Machine profiles: topology, core-to-core latency per pair class, costs, idle states.

One job per module:

- :mod:`~pwmodel.machine.profile`: the :class:`Machine` value and its topology maths;
- :mod:`~pwmodel.machine.tomlio`: reading (checked field by field) and writing profile TOML;
- :mod:`~pwmodel.machine.shipped`: the profiles shipped in ``pwmodel/profiles/*.toml``;
- :mod:`~pwmodel.machine.sysfs`: the running machine's topology from ``/sys``.

The names below are the package's interface (``from pwmodel import machine as M``).
"""

from pwmodel.machine.profile import (ENUMERATIONS, FORMAT, PREEMPT_MODELS, VERSION, IdleState,
                                     Level, Machine)
from pwmodel.machine.tomlio import from_dict, load, registry_defaults, to_toml
from pwmodel.machine.shipped import bundled, bundled_names, get
from pwmodel.machine.sysfs import detect, detect_topology

__all__ = ["ENUMERATIONS", "FORMAT", "PREEMPT_MODELS", "VERSION", "IdleState", "Level", "Machine",
           "from_dict", "load", "registry_defaults", "to_toml", "bundled", "bundled_names", "get", "detect",
           "detect_topology"]
