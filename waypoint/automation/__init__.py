"""Process automation: a change to a learner is requested on a tracker, approved, then applied (R-EPA-4, 5, 7)."""
