"""coverplan GIS layer: reading, validating and projecting the planning layers, terrain, maps."""
