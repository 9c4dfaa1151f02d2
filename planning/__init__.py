"""coverplan planning layer: models, optimiser, ledger, pipeline and the ``coverplan`` CLI."""
