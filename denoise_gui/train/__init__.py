"""The Train view: the run form, live curves and previews, progress, and the runs library."""
