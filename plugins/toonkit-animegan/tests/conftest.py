"""toonkit's plugin kit (fixtures toonkit_demo, toonkit_registry, toonkit_registry_factory)."""
pytest_plugins = ["toonkit.testing"]
