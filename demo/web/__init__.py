"""The Flask side of the demo sites: blueprints, templates and the app's mutable state."""
