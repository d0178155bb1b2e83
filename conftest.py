pytest_plugins = [
    "salescope.testing.fixtures",
    "salescope.testing.browser",
    "salescope.testing.postgres",
]
