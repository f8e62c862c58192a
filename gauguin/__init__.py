"""The `gauguin` command: the app, and the render, train and measuring tools as subcommands."""
