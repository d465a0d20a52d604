"""Week plans: where each medewerker plans to work per day (a site, home, or nothing)."""
