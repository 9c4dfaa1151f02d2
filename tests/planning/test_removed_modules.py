"""The removed compatibility modules (planning.coverage, planning.propagation, planning.optimise): importing one
fails with an ImportError that names the new module of every name it used to forward, and that module has it."""

from __future__ import annotations

import importlib
import re

import pytest

#: The names each removed module forwarded (its former ``__all__``).
FORWARDED = {
    "planning.coverage": [
        "TECHS",
        "Calibration",
        "LinkBudget",
        "Receiver",
        "SiteTable",
        "antenna_gain_db",
        "calibrate",
        "coverage",
        "coverage_raster",
        "is_tdd",
        "max_range_m",
        "pair_loss_db",
        "pair_rsrp_dbm",
        "resource_blocks",
        "site_ranges_m",
        "site_table",
        "subcarrier_spacing_khz",
        "throughput_mbps",
        "write_raster",
    ],
    "planning.propagation": [
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
    ],
    "planning.optimise": ["CoverResult", "Method", "Phase", "Status", "phase", "solve_cover"],
}


@pytest.mark.parametrize("old", sorted(FORWARDED))
def test_an_old_import_path_names_the_new_module_of_each_name(old: str) -> None:
    with pytest.raises(ImportError, match=f"{old} was removed") as err:
        importlib.import_module(old)
    told = dict(re.findall(r"(\w+): from ([\w.]+) import \1", str(err.value)))
    assert sorted(told) == sorted(FORWARDED[old])
    for name, module in told.items():
        assert module != old
        assert hasattr(importlib.import_module(module), name), f"{module} has no {name}"


@pytest.mark.parametrize("old", sorted(FORWARDED))
def test_an_old_from_import_fails_too(old: str) -> None:
    name = FORWARDED[old][0]
    with pytest.raises(ImportError, match=rf"{name}: from planning\.\w+\.\w+ import {name}"):
        exec(f"from {old} import {name}", {})
