"""Small widgets and helpers shared by the views (no view of their own)."""
