"""Removed: ``planning.propagation`` was the former import path of :mod:`planning.radio.propagation`; it is kept only
to say where each of its names lives now. Importing it raises an ImportError that lists them (README,
"Architecture")."""

_MOVED = {
    "C_38901_M_S": "planning.radio.propagation",
    "C_M_S": "planning.radio.propagation",
    "EARTH_RADIUS_M": "planning.radio.propagation",
    "FSPL_CONST_DB": "planning.radio.propagation",
    "MODELS": "planning.radio.propagation",
    "Environment": "planning.radio.propagation",
    "ItmParams": "planning.radio.propagation",
    "Model": "planning.radio.propagation",
    "TerrainLoss": "planning.radio.propagation",
    "base_loss_db": "planning.radio.propagation",
    "free_space_loss_db": "planning.radio.propagation",
    "hata_loss_db": "planning.radio.propagation",
    "itm_loss_db": "planning.radio.propagation",
    "itm_p2p_db": "planning.radio.propagation",
    "knife_edge_loss_db": "planning.radio.propagation",
    "rma_loss_db": "planning.radio.propagation",
    "terrain_loss_db": "planning.radio.propagation",
    "uma_loss_db": "planning.radio.propagation",
}
_NEW = "\n".join(f"  {name}: from {module} import {name}" for name, module in _MOVED.items())
msg = f"planning.propagation was removed; import its names from their modules instead:\n{_NEW}"
raise ImportError(msg, name=__name__)
