"""The conversation: routing, handlers, rendering, message catalogues and the composition root."""
