"""The folder model: what the wheels of one packages folder are to each other (the index by
project, requirement closures with extras and markers, the installed layout of a wheel)."""
