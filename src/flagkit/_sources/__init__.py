"""Sources: where snapshots come from (memory, files, HTTP), and the load pipeline."""
