"""Status: what each village and school has (evidence and KPIs, :mod:`planning.status.gaps`) and the ledger (台账)
of what is still unconnected, with its dated history (:mod:`planning.status.ledger`)."""
