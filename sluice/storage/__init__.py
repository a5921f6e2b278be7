"""Client factories for the data services: every client in Sluice is built here from a URL."""
