"""Public-health surveillance: outbreak detectors and their use on the warehouse."""
