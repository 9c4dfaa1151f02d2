"""Radio: path loss with terrain (:mod:`planning.radio.propagation`), the link budget's pieces
(:mod:`planning.radio.linkbudget`), 4G/5G coverage of points (:mod:`planning.radio.coverage`: best server, RSRP,
SINR, throughput), the coverage raster (:mod:`planning.radio.raster`), drive-test calibration
(:mod:`planning.radio.calibration`), candidate sites' links to demands (:mod:`planning.radio.links`), microwave
backhaul (:mod:`planning.radio.backhaul`) and cell capacity (:mod:`planning.radio.capacity`)."""
