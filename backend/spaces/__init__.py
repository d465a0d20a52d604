"""Registry of places: sites, floors, spaces and the devices that watch them."""
