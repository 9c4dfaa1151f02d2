"""The programme rule packs (package data): one versioned TOML file per programme text, read by
:mod:`gis.settings.programme` (docs/programme.md)."""
