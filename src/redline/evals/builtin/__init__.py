"""redline's built-in suites; each module registers its suites with ``@suite`` on import."""
