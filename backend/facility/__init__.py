"""Facility reports: utilisation, cleaning on demand, no-shows and consolidation advice."""
