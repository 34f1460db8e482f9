"""What the tests share besides fixtures: image files written in the formats users bring."""
