"""What the tests share besides fixtures: reading the offline W&B run files back, writing image
files."""
