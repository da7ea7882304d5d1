"""Handler modules, one per area; each registers its routes with the decorators in `bot.router`."""
