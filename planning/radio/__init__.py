"""Radio: path loss with terrain (:mod:`planning.radio.propagation`) and 4G/5G coverage of points
(:mod:`planning.radio.coverage`: link budget, best server, RSRP, SINR, throughput, calibration)."""
