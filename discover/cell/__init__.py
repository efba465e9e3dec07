"""Current-clamp cells: passive membrane and spike rule from the recording, spike-free training pieces."""

from ._adaptation import add_adaptation as add_adaptation, estimate_adaptation as estimate_adaptation
from ._discover import CellDiscovery as CellDiscovery, CellSettings as CellSettings, discover_cell as discover_cell
from ._electrode import ElectrodeFit as ElectrodeFit, fit_electrode as fit_electrode
from ._gif import CellFit as CellFit, gif_system as gif_system
from ._membrane import (
    add_spike_clock as add_spike_clock,
    estimate_passive as estimate_passive,
    estimate_spike_rule as estimate_spike_rule,
    membrane_system as membrane_system,
)
from ._segments import spike_free_chunks as spike_free_chunks
from ._simulate import simulate_gif as simulate_gif
from ._spikes import (
    SpikeAnalysis as SpikeAnalysis,
    SpikeShape as SpikeShape,
    analyse_spikes as analyse_spikes,
    detect_spikes as detect_spikes,
)

__all__ = [
    "CellDiscovery", "CellFit", "CellSettings", "ElectrodeFit", "discover_cell", "gif_system",
    "simulate_gif", "SpikeAnalysis", "SpikeShape", "add_adaptation", "add_spike_clock", "analyse_spikes",
    "detect_spikes", "estimate_adaptation", "estimate_passive", "estimate_spike_rule", "fit_electrode",
    "membrane_system", "spike_free_chunks",
]
