# toonkit's fixtures for plugin tests: toonkit_demo, toonkit_registry, toonkit_registry_factory
pytest_plugins = ["toonkit.testing"]
