"""Status: what each village and school has, from measured, reported and predicted evidence
(:mod:`planning.status.evidence`), the programmes' KPIs per county (:mod:`planning.status.kpi`), and the ledger
(台账) of what is still unconnected with its dated history (:mod:`planning.status.ledger`, field reports in
:mod:`planning.status.ledger_updates`, reconciliation with official counts in :mod:`planning.status.reconcile`)."""
