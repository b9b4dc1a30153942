"""Small shared widgets (ui layer): the screen-reader label, layout helpers."""
