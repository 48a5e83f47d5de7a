"""What a running gateway process holds open: built from settings in the lifespan, closed
with it."""
