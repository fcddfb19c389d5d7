"""Pure image functions and models for the face APIs (never imports Django)."""
