"""The former import path of :mod:`planning.radio.propagation`, kept so that scripts and notebooks written against it
still run; new code imports :mod:`planning.radio.propagation` (README, "Architecture")."""

from planning.radio.propagation import (
    C_38901_M_S,
    C_M_S,
    EARTH_RADIUS_M,
    FSPL_CONST_DB,
    MODELS,
    Environment,
    ItmParams,
    Model,
    TerrainLoss,
    base_loss_db,
    free_space_loss_db,
    hata_loss_db,
    itm_loss_db,
    itm_p2p_db,
    knife_edge_loss_db,
    rma_loss_db,
    terrain_loss_db,
    uma_loss_db,
)

__all__ = [
    "C_38901_M_S",
    "C_M_S",
    "EARTH_RADIUS_M",
    "FSPL_CONST_DB",
    "MODELS",
    "Environment",
    "ItmParams",
    "Model",
    "TerrainLoss",
    "base_loss_db",
    "free_space_loss_db",
    "hata_loss_db",
    "itm_loss_db",
    "itm_p2p_db",
    "knife_edge_loss_db",
    "rma_loss_db",
    "terrain_loss_db",
    "uma_loss_db",
]
