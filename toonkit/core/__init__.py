"""Low-level pieces that training, translation and the bench all use: checkpoint files and the device,
precision and random-state helpers. Nothing here imports a higher layer."""
