"""The command line's view of a run: rendering answers and events, answering event calls."""
