"""The face library: stored faces per app, groups, users and 1:N search."""
