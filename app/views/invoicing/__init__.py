"""Views of the purple "Faktury" section."""
