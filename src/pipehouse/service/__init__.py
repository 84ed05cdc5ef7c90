"""What the server does with its store and runtime: plugin lifecycle, valves, accounts."""
